# Demo: TOP-ReID, scaled down, on the synthetic RGBNT201-format set. Trains on
# 2 CPU cores in a few minutes and reaches an mAP far above chance on
# held-out synthetic identities (configs/topreid/README.md). Generate the
# data first:
#   python tools/dataset_converters/generate_synthetic.py data/synthetic
#   python tools/train.py \
#       configs/topreid/topreid_vit-tiny_1xb32-30e_synthetic-demo.py
# Differences from the official recipe: tiny ViT streams (96-d, 4 layers,
# 4 heads, 8 x 8 patches) trained from scratch (no download), 64 x 32 input
# (padding scaled to 3 px), TPM / CRM at the streams' width, 40 training
# ids, P x K = 8 x 4, and an optimiser for training a ViT from scratch:
# AdamW (lr 2e-3, weight decay 0.05; SGD at the official settings barely
# learns in this budget), 2 warm-up epochs, cosine over 30 epochs.
_base_ = [
    '../_base_/models/topreid_vit-b16.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/pipelines/transreid_64x32.py',
    '../_base_/schedules/topreid_sgd_120e.py',
    '../_base_/default_runtime.py',
]

embed_dims = 96

model = dict(
    backbone=dict(
        backbone=dict(
            arch=dict(
                _delete_=True,
                embed_dims=embed_dims,
                num_layers=4,
                num_heads=4,
                feedforward_channels=4 * embed_dims),
            img_size=(64, 32),
            patch_size=8,
            num_cameras=4),
        init_cfg=None),
    neck=dict(
        in_channels=embed_dims,
        tpm=dict(num_heads=4, feedforward_channels=4 * embed_dims),
        crm=dict(num_heads=4, feedforward_channels=4 * embed_dims)),
    head=dict(
        num_classes=40,
        branches=dict(tpm=3 * embed_dims, cls=3 * embed_dims)))

# The TransReID augmentation at the demo's size
# (../_base_/pipelines/transreid_64x32.py); features L2-normalised before
# ranking, as officially.
train_pipeline = _base_.transreid_train_pipeline
test_pipeline = _base_.transreid_test_pipeline
train_dataloader = dict(
    batch_size=32,
    sampler=dict(type='IdentityBalancedSampler', num_instances=4),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(normalize_feature=True)
test_evaluator = val_evaluator

# The demo's own optimisation (not the official one, see above).
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=2e-3, weight_decay=0.05),
    paramwise_cfg=dict(_delete_=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=2),
    dict(type='CosineAnnealingLR', T_max=28, eta_min=2e-5, by_epoch=True,
         begin=2, end=30),
]
train_cfg = dict(max_epochs=30, val_interval=5)

default_hooks = dict(logger=dict(interval=10))
log_processor = dict(window_size=10)
randomness = dict(seed=0)
