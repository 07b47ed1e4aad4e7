# Ablation a of the paper's Table 3: the three-stream network with part
# classifiers trained by CE only (no CIM, no 3M, no REM).
# Paper: mAP 21.55, R1 21.89, R5 33.97, R10 41.27.
_base_ = ['./ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(
    neck=dict(cim=None, rem=None),
    head=dict(metric_losses=[]))
