# TOP-ReID on MSVR310, the official recipe (configs/MSVR310/TOP-ReID.yml):
# 155 training ids, 8 cameras (the view digit), vehicles fed 256 x 128
# (h x w), MODEL.DIRECT = 0 (per-modality heads, as RGBNT100), and a longer,
# gentler schedule: lr 0.001 (bias x 2), 1000 epochs, warm-up over 100 epochs
# from 1e-5, cosine down to 1e-6. Same id AND same scene excluded at test.
# Paper: mAP 35.9, R1 44.6 (MSVR310).
_base_ = [
    '../_base_/models/topreid_vit-b16.py',
    '../_base_/datasets/msvr310.py',
    '../_base_/pipelines/transreid_256x128.py',
    '../_base_/schedules/topreid_sgd_120e.py',
    '../_base_/default_runtime.py',
]

# The TransReID augmentation at the person size
# (../_base_/pipelines/transreid_256x128.py), P x K = 8 x 16 and FEAT_NORM,
# as for RGBNT201.
train_pipeline = _base_.transreid_train_pipeline
test_pipeline = _base_.transreid_test_pipeline
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    sampler=dict(type='IdentityBalancedSampler', num_instances=16),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(normalize_feature=True)
test_evaluator = val_evaluator

model = dict(
    backbone=dict(backbone=dict(num_cameras=8)),
    head=dict(
        num_classes=155,
        branches=dict(_delete_=True, tpm=2304, cls_0=768, cls_1=768,
                      cls_2=768)))

lr = 0.001
optim_wrapper = dict(optimizer=dict(lr=lr))
# The official MSVR310 schedule: 100 warm-up epochs, 1000 epochs in all.
param_scheduler = dict(
    type='TimmCosineLR', t_initial=1000, warmup_t=100,
    warmup_lr_init=0.01 * lr, lr_min=0.001 * lr)
train_cfg = dict(max_epochs=1000)
env_cfg = dict(cudnn_benchmark=True)
