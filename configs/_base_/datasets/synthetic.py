# Synthetic RGBNT201-format data (mmieee.testing.synthetic): cartoon persons
# rendered in RGB / NI / TI by several cameras, written by
#   python tools/dataset_converters/generate_synthetic.py data/synthetic
# into data/synthetic/RGBNT201/{train_171,test}/{RGB,NI,TI}/. Training and
# test identities are disjoint, so the test mAP measures re-identification of
# unseen ids. Images are 128x64 (h x w); the pipeline resizes them to 64x32,
# the input of the scaled-down demo model.
_base_ = ['./rgbnt201.py']

data_root = 'data/synthetic/RGBNT201'
img_scale = (32, 64)  # (w, h), mmcv Resize convention

train_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='ApplyToModalities',
        share_random_params=False,
        transforms=[
            dict(type='Resize', scale=img_scale),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        ]),
    dict(type='PackMultiModalReIDInputs'),
]
test_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(type='ApplyToModalities', transforms=[dict(type='Resize',
                                                    scale=img_scale)]),
    dict(type='PackMultiModalReIDInputs'),
]

train_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
