# Demo: the IEEE model, scaled down, on the synthetic RGBNT201-format set.
# Trains on 2 CPU cores in a few minutes and reaches an mAP far above chance
# on held-out synthetic identities. Generate the data first:
#   python tools/dataset_converters/generate_synthetic.py data/synthetic
#   python tools/train.py configs/ieee/ieee_r18_1xb16-8e_synthetic-demo.py
# Differences from the official recipe: ResNet-18 streams trained from
# scratch (no download), 64x32 input (the size of the synthetic dataset
# config), smaller neck (256 -> 64 per part),
# larger learning rate and a short schedule.
_base_ = [
    '../_base_/models/ieee_r50.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/ieee_sgd_61e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        backbone=dict(type='mmpretrain.ResNet', depth=18),
        init_cfg=None),
    # 64x32 input -> 4x2 maps after the last stage: 4 stripes, not 6.
    neck=dict(
        in_channels=512, reduce_channels=256, out_channels=64, num_parts=4),
    head=dict(num_classes=40, in_channels=64, num_parts=4))

train_dataloader = dict(batch_size=16)  # P x K = 4 x 4
val_dataloader = dict(batch_size=64)
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = dict(milestones=[6])
train_cfg = dict(max_epochs=8, val_interval=2)

default_hooks = dict(logger=dict(interval=10))
log_processor = dict(window_size=10)
randomness = dict(seed=0)
