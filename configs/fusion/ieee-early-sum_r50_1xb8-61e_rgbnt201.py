# Fusion study (paper Fig. 6), early fusion: the three normalised images of a
# triplet are summed into one image, which goes through ONE ResNet-50 stream
# (ImageNet init, last stride 1) and then the IEEE part path (6 stripes ->
# 768-d reduce -> REM -> 128-d part FCs) of a single branch
# (mmieee/models/backbones/early_sum_fusion.py). Everything else is the
# official recipe (ieee_r50_1xb8-61e_rgbnt201.py).
# Losses: label-smoothed CE on the branch's 6 part classifiers (summed).
# 3M is OFF: it compares per-modality features, and there is one fused
# branch. Test feature: the branch's 6 x 128 = 768-d part embeddings.
# Paper: Fig. 6 draws this scheme below CIM; no value is printed.
_base_ = ['../ieee/ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='EarlySumFusion',
        # the stream of ieee_r50_1xb8-61e_rgbnt201.py
        backbone=dict(
            type='mmpretrain.ResNet',
            depth=50,
            strides=(1, 2, 2, 1),
            out_indices=(3, )),
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet50')),
    # nothing to interact with: one map
    neck=dict(cim=None),
    head=dict(metric_losses=[]))
