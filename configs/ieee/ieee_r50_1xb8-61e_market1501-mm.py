# IEEE on Market1501-MM (the paper's multi-modal Market1501, Table 1) with
# the official recipe; 751 training ids.
# Paper: mAP 64.32, R1 83.93, R5 92.96, R10 95.69.
_base_ = [
    '../_base_/models/ieee_r50.py',
    '../_base_/datasets/market1501_mm.py',
    '../_base_/schedules/ieee_sgd_61e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=751))
# 19,732 gallery triplets: evaluate every 5 epochs (and after the last one).
train_cfg = dict(val_interval=5)
# GPU: every image is resized to one fixed size, so cuDNN can benchmark its
# convolution algorithms once and keep the fastest (no effect on CPU;
# randomness.deterministic=True turns it off again).
env_cfg = dict(cudnn_benchmark=True)
