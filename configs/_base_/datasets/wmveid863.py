# WMVEID863 (MSVWild863) multi-spectral vehicle Re-ID in the wild, as its
# authors release it: {train,query,test}/<vid>/{vis,ni,th}/<name>, the
# vehicle id from the <vid> folder, the camera from 'v<digit>' in the name;
# test = query + test (the gallery). Gallery items with the same id AND the
# same camera are excluded, the rule of the dataset's own loader and
# evaluator (R1_mAP_eval in github.com/Mzq12138/Official-Implementation-for-
# Flare-Aware-Cross-modal-Enhancement-for-Multi-spectral-Vehicle-ReID).
# 128x256 (h x w) input and pipelines as for RGBNT100 / MSVR310.
_base_ = ['./rgbnt100.py']

dataset_type = 'WMVEID863'
data_root = 'data/WMVEID863'

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(
    batch_size=64, dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(type='ReIDMetric', exclude='camera')
test_evaluator = val_evaluator
