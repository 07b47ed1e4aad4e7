# TOP-ReID (Wang et al., AAAI 2024; docs/topreid.md): three unshared
# TransReID-style ViT-B/16 streams with a camera embedding (SIE, 3.0 x, on
# every token), initialised from timm's ImageNet-21k ViT-B/16; the Token
# Permutation Module (TPM) on the streams' tokens gives the 3 x 768 = 2304-d
# test feature (before the BN neck); the Complementary Reconstruction Module
# (CRM) adds its MSE loss and reconstructs missing modalities at test time.
# Head: BN neck (bias frozen) + bias-free classifier on the TPM feature and on
# the concatenated class tokens (the official MODEL.DIRECT = 1), each trained
# with label-smoothed CE + soft-margin batch-hard triplet (weights 1).
#
# Camera ids: every sample's camid (0-based) reaches the streams; the table
# has as many rows as the training split has cameras (RGBNT201: 4).
model = dict(
    type='MultiModalReID',
    modalities=('RGB', 'NI', 'TI'),
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        # the official Normalize(mean=0.5, std=0.5) on [0, 1] images
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        to_rgb=False),
    backbone=dict(
        type='MultiStreamBackbone',
        share_weights=False,
        backbone=dict(
            type='ReIDViT',
            arch='b',  # 768-d, 12 layers, 12 heads, MLP 3072
            img_size=(256, 128),
            patch_size=16,  # conv patch embedding, stride 16: 16 x 8 grid
            qkv_bias=True,
            norm_cfg=dict(type='LN', eps=1e-6),
            drop_rate=0.0,
            drop_path_rate=0.1,  # linspace(0, 0.1, 12) over the layers
            num_cameras=4,
            camera_embed_coef=3.0,
            camera_tokens='all',
            out_type='raw'),
        # ImageNet-21k ViT-B/16 of the official README (timm's
        # jx_vit_base_p16_224), loaded into every stream when the Runner
        # initialises the model; where to put the file: docs/topreid.md.
        # Remove it (model.backbone.init_cfg=None) to train from scratch.
        init_cfg=dict(
            type='TimmViTPretrained',
            checkpoint='pretrained/vitb_16_224_21k.pth')),
    neck=dict(
        type='TOPReIDNeck',
        in_channels=768,
        tpm=dict(
            type='TokenPermutation', num_heads=12, feedforward_channels=3072),
        crm=dict(
            type='ComplementaryReconstruction',
            num_heads=12,
            feedforward_channels=3072,
            num_layers=1)),
    head=dict(
        type='BNNeckHead',
        num_classes=171,
        branches=dict(tpm=2304, cls=2304),
        test_feature=('tpm', ),
        loss_ce=dict(
            type='mmpretrain.LabelSmoothLoss',
            label_smooth_val=0.1,
            mode='original',
            loss_weight=1.0),
        loss_triplet=dict(type='TripletLoss', margin=None, loss_weight=1.0),
        neck_feat='before'),
    # Missing modalities at test time:
    #   missing_modalities: reconstructed by the CRM (the official TEST.MISS)
    #   blank_modalities: images replaced by zeros after normalisation
    # e.g. --cfg-options "model.test_cfg.missing_modalities=[RGB]"
    test_cfg=dict(blank_modalities=[], missing_modalities=[]))
