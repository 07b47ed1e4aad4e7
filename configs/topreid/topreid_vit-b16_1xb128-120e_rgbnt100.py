# TOP-ReID on RGBNT100, the official recipe (configs/RGBNT100/TOP-ReID.yml):
# as RGBNT201 but 50 training ids, 8 cameras, vehicles fed 256 x 128 (h x w),
# and MODEL.DIRECT = 0: besides the TPM feature, each stream's class token has
# its own BN neck + classifier (branches cls_0, cls_1, cls_2 = RGB, NI, TI),
# and the concatenated class tokens are not trained.
# Paper: mAP 81.2, R1 96.4 (RGBNT100).
_base_ = [
    '../_base_/models/topreid_vit-b16.py',
    '../_base_/datasets/rgbnt100.py',
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
        num_classes=50,
        branches=dict(_delete_=True, tpm=2304, cls_0=768, cls_1=768,
                      cls_2=768)))
env_cfg = dict(cudnn_benchmark=True)
