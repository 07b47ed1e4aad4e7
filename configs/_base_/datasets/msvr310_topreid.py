# MSVR310 with TOP-ReID's augmentation and 256 x 128 (h x w) input; gallery
# items with the same id AND the same scene are excluded (exclude='scene').
_base_ = ['./rgbnt100_topreid.py']

dataset_type = 'MSVR310'
data_root = 'data/MSVR310'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(type='ReIDMetric', exclude='scene',
                     normalize_feature=True)
test_evaluator = val_evaluator
