# RGBNT100 multi-spectral vehicle Re-ID: one 768x128 file per
# sample, RGB | NI | TI side by side (cut by LoadMultiModalImages from the
# dataset's `modality_slices`). 50 training ids; test = query +
# bounding_box_test, same-id same-camera gallery items excluded.
# Vehicles are wide: 128x256 (h x w) input, the size common in multi-spectral
# vehicle Re-ID work (the IEEE paper reports no vehicle results).
_base_ = ['./rgbnt201.py']

dataset_type = 'RGBNT100'
data_root = 'data/RGBNT100'

train_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='ApplyToModalities',
        share_random_params=False,
        transforms=[
            dict(type='Resize', scale=(256, 128)),  # (w, h)
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        ]),
    dict(type='PackMultiModalReIDInputs'),
]
test_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='ApplyToModalities',
        transforms=[dict(type='Resize', scale=(256, 128))]),
    dict(type='PackMultiModalReIDInputs'),
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    dataset=dict(
        type=dataset_type, data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
