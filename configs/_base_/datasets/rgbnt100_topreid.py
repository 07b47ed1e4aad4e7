# RGBNT100 with TOP-ReID's augmentation and input size: the vehicles are fed
# 256 high x 128 wide like persons (the released TOP-ReID setting), not the
# 128 x 256 of configs/_base_/datasets/rgbnt100.py. Each 256 x 128 (w x h)
# modality tile of the 768 x 128 files is resized to 128 x 256 (w x h).
_base_ = ['./rgbnt201_topreid.py']

dataset_type = 'RGBNT100'
data_root = 'data/RGBNT100'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
