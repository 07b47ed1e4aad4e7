# MSVR310 multi-spectral vehicle Re-ID: folders vis / ni / th per
# vehicle, 155 training ids; test = query3 + bounding_box_test. Gallery items
# with the same id AND the same scene are excluded (exclude='scene').
# 128x256 (h x w) input, as for RGBNT100.
_base_ = ['./rgbnt100.py']

dataset_type = 'MSVR310'
data_root = 'data/MSVR310'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(
    batch_size=64, dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(type='ReIDMetric', exclude='scene')
test_evaluator = val_evaluator
