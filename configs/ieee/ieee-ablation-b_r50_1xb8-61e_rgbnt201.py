# Ablation b of the paper's Table 3: three streams + CIM, CE only.
# Paper: mAP 31.94, R1 30.26, R5 46.05, R10 53.47.
_base_ = ['./ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(neck=dict(rem=None), head=dict(metric_losses=[]))
