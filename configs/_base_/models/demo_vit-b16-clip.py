# DeMo (Wang et al., AAAI 2025) on RGBNT201, the official model
# (configs/RGBNT201/DeMo.yml of github.com/924973292/DeMo; docs/demo.md):
# one CLIP ViT-B/16 visual encoder shared by RGB, NI and TI (camera
# embedding on the class token, 768 -> 512 projection of every token),
# PIFE (class token + patch mean -> one global feature per modality), HDM
# (7 query tokens R, N, T, RN, RT, NT, RNT attending to their modalities'
# tokens), ATMoE (attention-gated experts on 4 head chunks). Losses per
# (feature, BN-neck classifier) pair: 0.25 x label-smoothed CE + soft-margin
# batch-hard triplet on the feature before the neck; pairs 'moe' (3584-d)
# and 'ori' (the 3 PIFE globals, 1536-d; DIRECT=1).
#
# Test feature: [ori ; moe] = 5120-d before the BN necks (the official
# return_pattern=3); model.head.test_feature=('ori',) or ('moe',) gives
# return_pattern 1 or 2.
model = dict(
    type='MultiModalReID',
    modalities=('RGB', 'NI', 'TI'),
    # mean = std = 0.5 (x 255) for every modality, as the official
    # PIXEL_MEAN / PIXEL_STD; a blanked modality (test_cfg below) is 0 after
    # this, i.e. mid-grey, which is the official TEST.MISS zero-filling.
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        to_rgb=False),
    backbone=dict(
        type='MultiStreamBackbone',
        # one encoder for all modalities (the official BACKBONE is called
        # three times); each modality still runs on its own
        share_weights=True,
        backbone=dict(
            type='ReIDViT',
            arch='b',  # 768-d, 12 layers, 12 heads, MLP 3072
            img_size=(256, 128),
            patch_size=16,
            patch_cfg=dict(stride=16),  # official STRIDE_SIZE [16, 16]
            pre_norm=True,  # CLIP's ln_pre (and a bias-free patch conv)
            norm_cfg=dict(type='LN', eps=1e-5),
            layer_cfgs=dict(act_cfg=dict(type='mmpretrain.QuickGELU')),
            drop_rate=0.,
            drop_path_rate=0.,
            qkv_bias=True,
            out_channels=512,  # CLIP's visual.proj on every token
            # SIE on the class token only, coefficient SIE_COE = 1.0; one
            # row per camera of the training split (RGBNT201: 4)
            num_cameras=4,
            camera_tokens='cls',
            camera_embed_coef=1.0,
            init_cfg=dict(
                type='CLIPVisualPretrained',
                checkpoint='~/.cache/clip/ViT-B-16.pt'))),
    neck=dict(
        type='DeMoNeck',
        in_channels=512,
        pife=dict(type='PIFE'),
        hdm=dict(type='HDM', dropout=0.1),
        atmoe=dict(type='ATMoE', num_heads=4)),  # official MODEL.HEAD
    head=dict(
        type='BNNeckHead',
        num_classes=171,
        branches=dict(moe=3584, ori=1536),  # DIRECT=1
        test_feature=('ori', 'moe'),
        loss_ce=dict(
            type='mmpretrain.LabelSmoothLoss',
            label_smooth_val=0.1,
            mode='original',
            loss_weight=0.25),  # ID_LOSS_WEIGHT
        loss_triplet=dict(
            type='TripletLoss', margin=None,  # NO_MARGIN: soft margin
            loss_weight=1.0)),  # TRIPLET_LOSS_WEIGHT
    # Missing modalities (official TEST.MISS): e.g.
    #   --cfg-options "model.test_cfg.blank_modalities=[RGB]"
    test_cfg=dict(blank_modalities=[]))
