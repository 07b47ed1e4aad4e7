# TOP-ReID on RGBNT201, the official recipe (docs/topreid.md): three
# ImageNet-21k ViT-B/16 streams with a 4-camera embedding, TPM + CRM,
# CE + triplet on the TPM feature and the concatenated class tokens
# (MODEL.DIRECT = 1) + the CRM loss, 256 x 128, P x K = 8 x 16, SGD 0.009
# (bias x 2), warm-up + cosine over 120 epochs.
# Paper: mAP 72.3, R1 76.6 (RGBNT201).
_base_ = [
    '../_base_/models/topreid_vit-b16.py',
    '../_base_/datasets/rgbnt201_topreid.py',
    '../_base_/schedules/topreid_sgd_120e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(backbone=dict(num_cameras=4)), head=dict(num_classes=171))
# GPU: fixed input size, so cuDNN benchmarks its algorithms once (no effect
# on CPU; randomness.deterministic=True turns it off again).
env_cfg = dict(cudnn_benchmark=True)
