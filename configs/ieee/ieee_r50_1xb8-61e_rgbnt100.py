# IEEE on RGBNT100 (multi-spectral vehicles; not in the paper) with the
# official recipe at 128x256 (h x w); 50 training ids.
_base_ = [
    '../_base_/models/ieee_r50.py',
    '../_base_/datasets/rgbnt100.py',
    '../_base_/schedules/ieee_sgd_61e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=50))
# 8,675 query-gallery triplets: evaluate every 5 epochs (and after the last).
train_cfg = dict(val_interval=5)
# GPU: every image is resized to one fixed size, so cuDNN can benchmark its
# convolution algorithms once and keep the fastest (no effect on CPU;
# randomness.deterministic=True turns it off again).
env_cfg = dict(cudnn_benchmark=True)
