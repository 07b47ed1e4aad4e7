# RGBNT201: 171 training ids (train_171), 30 test ids; every
# test triplet is both query and gallery, same-id same-camera gallery items
# are excluded. 256x128 input, ImageNet statistics for every modality
# (model.data_preprocessor), P x K = 2 x 4 identity-balanced batches of 8:
# IEEE's recipe; the TOP-ReID and DeMo configs replace pipeline and batches.
dataset_type = 'RGBNT201'
data_root = 'data/RGBNT201'
modalities = ('RGB', 'NI', 'TI')

# Official recipe: resize, then a horizontal flip drawn independently for
# each modality (the official code augments the three images one by one).
# Aligned alternative (one flip decision shared by the three images):
#   dict(type='ApplyToModalities', share_random_params=True, transforms=[...])
train_pipeline = [
    dict(type='LoadMultiModalImages'),
    dict(
        type='ApplyToModalities',
        share_random_params=False,
        transforms=[
            dict(type='Resize', scale=(128, 256)),  # (w, h)
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
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
    batch_size=8,
    num_workers=4,
    # Non-persistent workers keep --resume bit-exact (EpochSeedHook).
    persistent_workers=False,
    # P x K = (batch_size / num_instances) x 4; the sampler takes its batch
    # size from batch_size above.
    sampler=dict(type='IdentityBalancedSampler', num_instances=4),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        modalities=modalities,
        pipeline=train_pipeline))

val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        modalities=modalities,
        pipeline=test_pipeline))
val_evaluator = dict(type='ReIDMetric', exclude='camera')

test_dataloader = val_dataloader
test_evaluator = val_evaluator
