# Fusion study (paper Fig. 6), progressive fusion as PFNet (Zheng et al.,
# AAAI 2021): in CIM's place, RGB is fused with NI and with TI (sum + 1x1
# conv/BN/ReLU each), the two pairs into a summation branch; the three
# single-modality maps are kept (mmieee/models/fusions/progressive_fusion.py
# says what is PFNet's and what is our choice). Each of the 4 branches gets
# its own part path; everything else is the official recipe
# (ieee_r50_1xb8-61e_rgbnt201.py).
# The REM global feature is pooled from each branch's map after the fusion
# module (global_source='cim'; the single branches' maps are the backbone's).
# Losses: label-smoothed CE on the 4 x 6 part classifiers (summed).
# 3M is OFF: it would treat the fused branch as a fourth modality.
# Test feature: 4 x 6 x 128 = 3072-d, all branches' part embeddings.
# Paper: Fig. 6 draws this scheme below CIM; no value is printed.
_base_ = ['../ieee/ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(
    neck=dict(
        cim=dict(_delete_=True, type='ProgressiveFusion'),
        global_source='cim'),
    head=dict(metric_losses=[]))
