# RGBNT201 with TOP-ReID's augmentation (official data/datasets/
# make_dataloader.py), drawn independently for each modality: bicubic resize
# to 256 x 128, horizontal flip 0.5, pad 10 + random crop, random erasing 0.5
# (area 2-33 %, aspect 0.3-3.3, per-pixel normal noise of the normalised
# image's scale: fill N(127.5, 127.5) before the mean = std = 127.5
# normalisation, clipped to the pixel range; docs/topreid.md). Test: bilinear
# resize only. P x K = 8 x 16 = 128 per batch. Features are L2-normalised
# before ranking (the official FEAT_NORM).
_base_ = ['./rgbnt201.py']

train_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='ApplyToModalities',
        share_random_params=False,
        transforms=[
            dict(type='Resize', scale=(128, 256), interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='RandomCrop', crop_size=(256, 128), padding=10,
                 pad_val=0),
            dict(
                type='RandomErasing',
                erase_prob=0.5,
                min_area_ratio=0.02,
                max_area_ratio=1 / 3,
                aspect_range=(0.3, 1 / 0.3),
                mode='rand',
                fill_color=(127.5, 127.5, 127.5),
                fill_std=(127.5, 127.5, 127.5)),
        ]),
    dict(type='PackMultiModalReIDInputs'),
]
test_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='ApplyToModalities',
        transforms=[dict(type='Resize', scale=(128, 256))]),
    dict(type='PackMultiModalReIDInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    sampler=dict(type='IdentityBalancedSampler', num_instances=16),
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='ReIDMetric', exclude='camera',
                     normalize_feature=True)
test_evaluator = val_evaluator
