# IEEE on MSVR310 (multi-spectral vehicles with scene ids; not in the paper)
# with the official recipe at 128x256 (h x w); 155 training ids; gallery
# items of the same vehicle AND scene are excluded (exclude='scene').
_base_ = [
    '../_base_/models/ieee_r50.py',
    '../_base_/datasets/msvr310.py',
    '../_base_/schedules/ieee_sgd_61e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=155))
# GPU: every image is resized to one fixed size, so cuDNN can benchmark its
# convolution algorithms once and keep the fastest (no effect on CPU;
# randomness.deterministic=True turns it off again).
env_cfg = dict(cudnn_benchmark=True)
