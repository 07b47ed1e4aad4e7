# IEEE (Wang et al., AAAI 2022), official variant (docs/paper_to_code.md):
# three unshared
# ImageNet ResNet-50 streams with last stride 1, CIM with channel attention,
# P=6 stripes reduced to 768 channels, REM as the released code computes it
# (official), 128-d part embeddings; label-smoothed CE on every part
# classifier summed over M x P, plus the 3M loss (squared L2 between
# modality centres, summed over ids, margin 1).
#
# Test feature: the M x P x 128 part embeddings concatenated (2304-d for three
# modalities), Euclidean distance.
model = dict(
    type='MultiModalReID',
    # The one place M is stated: the backbone, neck and head get
    # num_modalities = len(modalities) from the model. Datasets must load the
    # same modalities in the same order (checked on every batch).
    modalities=('RGB', 'NI', 'TI'),
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        # ImageNet statistics (RGB order) for every modality; images are
        # loaded in RGB order (LoadMultiModalImages' default).
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    backbone=dict(
        type='MultiStreamBackbone',
        share_weights=False,
        backbone=dict(
            type='mmpretrain.ResNet',
            depth=50,
            strides=(1, 2, 2, 1),  # last stride 1: 256x128 -> 16x8 map
            out_indices=(3, )),
        # The ImageNet weights the official code starts from, loaded into
        # every stream when the Runner initialises the model.
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet50')),
    neck=dict(
        type='IEEENeck',
        in_channels=2048,
        reduce_channels=768,
        out_channels=128,
        num_parts=6,
        cim=dict(type='CrossModalInteraction', use_channel_attention=True),
        rem=dict(type='RelationEmbedding', variant='official'),
        global_source='backbone'),
    head=dict(
        type='IEEEHead',
        num_classes=171,
        num_parts=6,
        in_channels=128,
        loss_ce=dict(
            type='mmpretrain.LabelSmoothLoss',
            label_smooth_val=0.1,
            mode='original',
            loss_weight=1.0),
        ce_reduction='sum',
        metric_losses=[
            dict(
                type='MultiModalMarginLoss',
                margin=1.0,
                distance='squared_l2',
                reduction='sum',
                normalize=True,
                loss_weight=1.0)
        ],
        topk=(1, )),
    # Missing-modality evaluation: modalities listed here are replaced by
    # zeros after normalisation at test time, e.g.
    #   --cfg-options "model.test_cfg.blank_modalities=[NI]"
    test_cfg=dict(blank_modalities=[]))
