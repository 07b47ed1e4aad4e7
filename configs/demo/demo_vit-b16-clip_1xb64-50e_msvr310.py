# DeMo on MSVR310 vehicles, the official recipe (configs/MSVR310/DeMo.yml of
# github.com/924973292/DeMo; docs/demo.md): the vehicle model of
# demo_vit-b16-clip_1xb128-30e_rgbnt100.py (128 x 256, ATMoE with 8 heads,
# DIRECT=0) with P x K = 16 x 4 = 64 and the 50-epoch schedule; gallery
# items of the query's id AND scene are excluded.
# Paper (vehicle comparison, DeMo with the CLIP backbone): mAP 49.2, R1 59.8.
# Needs OpenAI's ViT-B-16.pt (docs/demo.md, "Pretrained weights").
_base_ = [
    '../_base_/models/demo_vit-b16-clip.py',
    '../_base_/datasets/msvr310.py',
    '../_base_/pipelines/transreid_128x256.py',
    '../_base_/schedules/demo_adam_50e.py',
    '../_base_/default_runtime.py',
]

# The TransReID augmentation at 128 x 256 (h x w): SIZE_TRAIN = SIZE_TEST =
# [128, 256] (../_base_/pipelines/transreid_128x256.py)
train_pipeline = _base_.transreid_train_pipeline
test_pipeline = _base_.transreid_test_pipeline
train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    sampler=dict(type='IdentityBalancedSampler', num_instances=4),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# Official TEST.FEAT_NORM 'yes': features L2-normalised before the
# (squared) Euclidean distance
val_evaluator = dict(normalize_feature=True)
test_evaluator = val_evaluator

model = dict(
    # views v0 .. v7 (0-based in the names): 8 rows, the most the official
    # loader accepts (it asserts 0 <= view <= 7)
    backbone=dict(backbone=dict(img_size=(128, 256), num_cameras=8)),
    neck=dict(atmoe=dict(num_heads=8)),  # MODEL.HEAD
    head=dict(
        num_classes=155,
        branches=dict(
            _delete_=True, moe=3584, global_0=512, global_1=512,
            global_2=512),
        test_feature=('global_0', 'global_1', 'global_2', 'moe')))
randomness = dict(seed=1111)
