# Fusion study (paper Fig. 6), late fusion by feature aggregation (the scheme
# the paper attributes to DAPNet): the three ResNet-50 streams' last-stage
# maps are concatenated (3 x 2048 channels) and reduced by 1x1 conv + BN +
# ReLU to 2048 channels in CIM's place, followed by ONE part path
# (mmieee/models/fusions/late_concat_fusion.py). Everything else is the
# official recipe (ieee_r50_1xb8-61e_rgbnt201.py).
# The REM global feature is pooled from the fused map (global_source='cim').
# Losses: label-smoothed CE on the branch's 6 part classifiers (summed).
# 3M is OFF: it compares per-modality features, and there is one fused
# branch. Test feature: the branch's 6 x 128 = 768-d part embeddings.
# Paper: Fig. 6 draws this scheme below CIM; no value is printed.
_base_ = ['../ieee/ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(
    neck=dict(
        cim=dict(_delete_=True, type='LateConcatFusion'),
        global_source='cim'),
    head=dict(metric_losses=[]))
