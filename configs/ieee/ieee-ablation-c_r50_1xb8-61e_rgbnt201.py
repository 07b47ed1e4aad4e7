# Ablation c of the paper's Table 3: three streams + CIM + 3M loss (no REM).
# Paper: mAP 39.24, R1 39.59, R5 54.67, R10 64.83.
_base_ = ['./ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(neck=dict(rem=None))
