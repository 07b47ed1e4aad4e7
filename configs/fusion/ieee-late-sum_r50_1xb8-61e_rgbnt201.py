# Fusion study (paper Fig. 6), late fusion by feature summation (the scheme
# the paper attributes to JL-DCF): the three ResNet-50 streams' last-stage
# maps are summed into one map in CIM's place, followed by ONE part path
# (mmieee/models/fusions/late_sum_fusion.py). Everything else is the
# official recipe (ieee_r50_1xb8-61e_rgbnt201.py).
# The REM global feature is pooled from the fused map (global_source='cim':
# a fused branch has no backbone map of its own).
# Losses: label-smoothed CE on the branch's 6 part classifiers (summed).
# 3M is OFF: it compares per-modality features, and there is one fused
# branch. Test feature: the branch's 6 x 128 = 768-d part embeddings.
# Paper: Fig. 6 draws this scheme below CIM; no value is printed.
_base_ = ['../ieee/ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(
    neck=dict(
        cim=dict(_delete_=True, type='LateSumFusion'), global_source='cim'),
    head=dict(metric_losses=[]))
