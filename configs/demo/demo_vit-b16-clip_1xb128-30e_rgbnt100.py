# DeMo on RGBNT100 vehicles, the official recipe (configs/RGBNT100/DeMo.yml
# of github.com/924973292/DeMo; docs/demo.md): the RGBNT201 model with
# 128 x 256 (h x w) inputs (an 8 x 16 patch grid), ATMoE with 8 heads, one
# BN-neck classifier per modality's PIFE global feature instead of one on
# their concatenation (DIRECT=0); P x K = 8 x 16 = 128; 30 epochs (5 of
# warm-up). Test feature [ori ; moe], 5120-d, as for RGBNT201.
# Paper (vehicle comparison, DeMo with the CLIP backbone): mAP 86.2, R1 97.6.
# Needs OpenAI's ViT-B-16.pt (docs/demo.md, "Pretrained weights").
_base_ = [
    '../_base_/models/demo_vit-b16-clip.py',
    '../_base_/datasets/rgbnt100.py',
    '../_base_/pipelines/transreid_128x256.py',
    '../_base_/schedules/demo_adam_30e.py',
    '../_base_/default_runtime.py',
]

# The TransReID augmentation at 128 x 256 (h x w): SIZE_TRAIN = SIZE_TEST =
# [128, 256] (../_base_/pipelines/transreid_128x256.py)
train_pipeline = _base_.transreid_train_pipeline
test_pipeline = _base_.transreid_test_pipeline
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    sampler=dict(type='IdentityBalancedSampler', num_instances=16),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128, num_workers=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# Official TEST.FEAT_NORM 'yes': features L2-normalised before the
# (squared) Euclidean distance
val_evaluator = dict(normalize_feature=True)
test_evaluator = val_evaluator

model = dict(
    # RGBNT100 has 8 cameras (c0001 .. c0008)
    backbone=dict(backbone=dict(img_size=(128, 256), num_cameras=8)),
    neck=dict(atmoe=dict(num_heads=8)),  # MODEL.HEAD
    head=dict(
        num_classes=50,
        # DIRECT=0: the moe head and one head per modality
        branches=dict(
            _delete_=True, moe=3584, global_0=512, global_1=512,
            global_2=512),
        # = [ori ; moe]: ori is the three globals concatenated
        test_feature=('global_0', 'global_1', 'global_2', 'moe')))
randomness = dict(seed=1111)
