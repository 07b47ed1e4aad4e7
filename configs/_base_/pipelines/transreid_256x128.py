# The TransReID augmentation, which TOP-ReID and DeMo inherit unchanged
# (data/datasets/make_dataloader.py of their official code), at 256 x 128
# (h x w): persons, and TOP-ReID's vehicles.
#
# Layout: one pipeline base per input size, independent of the dataset: this
# file states the augmentation, transreid_128x256.py and transreid_64x32.py
# take it and change only the sizes. A config lists one of them beside a
# dataset base (../datasets/*.py: type, root, splits, evaluation rule) and
# points the dataloaders at it; the batch and P x K are the recipe's and stay
# in the config:
#   train_pipeline = _base_.transreid_train_pipeline
#   test_pipeline = _base_.transreid_test_pipeline
#   train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
#   val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
#   test_dataloader = val_dataloader
# (The dataset bases define train_pipeline / test_pipeline themselves and two
# bases may not define the same key, hence the transreid_ names.)
#
# Each modality is augmented on its own, as the official code transforms the
# three images one by one. The erasing fill assumes the data preprocessor's
# mean = std = 127.5 (the official Normalize(0.5, 0.5)).
transreid_train_pipeline = [
    # PIL.Image.open(path).convert('RGB')
    dict(type='LoadMultiModalImages', imdecode_backend='pillow'),
    dict(
        type='ApplyToModalities',
        share_random_params=False,
        transforms=[
            # T.Resize(SIZE_TRAIN, interpolation=3): PIL bicubic
            dict(
                type='Resize',
                scale=(128, 256),  # (w, h)
                interpolation='bicubic',
                backend='pillow'),
            # T.RandomHorizontalFlip(p=0.5)
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            # T.Pad(10) with black, then T.RandomCrop(SIZE_TRAIN)
            dict(
                type='RandomCrop',
                crop_size=(256, 128),  # (h, w)
                padding=10,
                pad_val=0),
            # timm RandomErasing(probability=0.5, mode='pixel', max_count=1)
            # after Normalize: the box holds N(0, 1) once normalised
            dict(
                type='TimmRandomErasing',
                prob=0.5,
                fill_mean=127.5,
                fill_std=127.5),
        ]),
    dict(type='PackMultiModalReIDInputs'),
]
transreid_test_pipeline = [
    dict(type='LoadMultiModalImages', imdecode_backend='pillow'),
    dict(
        type='ApplyToModalities',
        transforms=[
            # T.Resize(SIZE_TEST): PIL bilinear
            dict(
                type='Resize',
                scale=(128, 256),
                interpolation='bilinear',
                backend='pillow')
        ]),
    dict(type='PackMultiModalReIDInputs'),
]
