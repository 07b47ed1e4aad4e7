# Demo: the DeMo model, scaled down, on the synthetic RGBNT201-format set.
# Trains on 2 CPU cores in a few minutes and reaches an mAP far above chance
# on held-out synthetic identities. Generate the data first:
#   python tools/dataset_converters/generate_synthetic.py data/synthetic
#   python tools/train.py \
#       configs/demo/demo_vit-tiny_1xb32-20e_synthetic-demo.py
# Differences from the official recipe (demo_vit-b16-clip_1xb64-50e_
# rgbnt201.py): a 4-layer, 128-wide ViT (patch 8, 64-d projection) trained
# from scratch (no CLIP file), 64 x 32 input (pad 3 instead of 10), ATMoE
# and HDM with 2 heads, P x K = 8 x 4, Adam 2e-3 for every parameter
# (bias x2) with a short warm-up and cosine, fp32 (CPU).
_base_ = [
    '../_base_/models/demo_vit-b16-clip.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/pipelines/transreid_64x32.py',
    '../_base_/default_runtime.py',
]

# The TransReID augmentation at the demo's size
# (../_base_/pipelines/transreid_64x32.py)
train_pipeline = _base_.transreid_train_pipeline
test_pipeline = _base_.transreid_test_pipeline
train_dataloader = dict(
    batch_size=32,
    sampler=dict(type='IdentityBalancedSampler', num_instances=4),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# Official TEST.FEAT_NORM 'yes': features L2-normalised before the
# (squared) Euclidean distance
val_evaluator = dict(normalize_feature=True)
test_evaluator = val_evaluator

embed_dims = 64
model = dict(
    backbone=dict(
        backbone=dict(
            arch=dict(
                _delete_=True,
                embed_dims=128,
                num_layers=4,
                num_heads=4,
                feedforward_channels=256),
            img_size=(64, 32),
            patch_size=8,
            patch_cfg=dict(stride=8),
            out_channels=embed_dims,
            num_cameras=4,  # the synthetic set's cameras
            init_cfg=None)),
    neck=dict(
        in_channels=embed_dims,
        hdm=dict(num_heads=2),
        atmoe=dict(num_heads=2)),
    head=dict(
        num_classes=40,
        branches=dict(
            _delete_=True, moe=7 * embed_dims, ori=3 * embed_dims)))

lr = 2e-3
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=lr, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'bias': dict(lr_mult=2.0)}))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=2,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=18,
        eta_min=0.01 * lr,
        by_epoch=True,
        begin=2,
        end=20,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=5)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(logger=dict(interval=5))
log_processor = dict(window_size=5)
randomness = dict(seed=0)
