# Market1501-MM (IEEE paper, Table 1): Market1501 with a grey NI
# and a CycleGAN TI image per (darkened) RGB image. 751 training ids; test =
# query (3,368) + gallery (pid 0 distractors kept, pid -1 junk dropped),
# same-id same-camera gallery items excluded. Same recipe as RGBNT201.
_base_ = ['./rgbnt201.py']

dataset_type = 'Market1501MM'
data_root = 'data/Market1501-MM'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(
    batch_size=64, dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
