# TOP-ReID on RGBNT201, the official recipe (docs/topreid.md): three
# ImageNet-21k ViT-B/16 streams with a 4-camera embedding, TPM + CRM,
# CE + triplet on the TPM feature and the concatenated class tokens
# (MODEL.DIRECT = 1) + the CRM loss, 256 x 128, P x K = 8 x 16, SGD 0.009
# (bias x 2), warm-up + cosine over 120 epochs.
# Paper: mAP 72.3, R1 76.6 (RGBNT201).
_base_ = [
    '../_base_/models/topreid_vit-b16.py',
    '../_base_/datasets/rgbnt201.py',
    '../_base_/pipelines/transreid_256x128.py',
    '../_base_/schedules/topreid_sgd_120e.py',
    '../_base_/default_runtime.py',
]

# The TransReID augmentation (../_base_/pipelines/transreid_256x128.py); the
# official P x K = 8 x 16 (config/defaults.py); features L2-normalised before
# ranking (the official FEAT_NORM).
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
    backbone=dict(backbone=dict(num_cameras=4)), head=dict(num_classes=171))
# GPU: fixed input size, so cuDNN benchmarks its algorithms once (no effect
# on CPU; randomness.deterministic=True turns it off again).
env_cfg = dict(cudnn_benchmark=True)
