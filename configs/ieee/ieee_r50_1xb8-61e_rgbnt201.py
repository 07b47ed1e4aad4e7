# IEEE on RGBNT201, the official recipe (docs/paper_to_code.md): three ImageNet
# ResNet-50 streams, CIM, official REM, CE (label smoothing 0.1, summed over
# the 3 x 6 part classifiers) + 3M (squared L2, margin 1), 256x128 input,
# P x K = 2 x 4, SGD 1e-3 (x0.1 at epochs 20, 40), 61 epochs.
# Paper (Table 1 / Table 3 d): mAP 46.42, R1 47.13, R5 58.49, R10 64.23.
_base_ = [
    '../_base_/models/ieee_r50.py',
    '../_base_/datasets/rgbnt201.py',
    '../_base_/schedules/ieee_sgd_61e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=171))
# GPU: every image is resized to one fixed size, so cuDNN can benchmark its
# convolution algorithms once and keep the fastest (no effect on CPU;
# randomness.deterministic=True turns it off again).
env_cfg = dict(cudnn_benchmark=True)
