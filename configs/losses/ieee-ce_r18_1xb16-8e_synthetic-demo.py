# Demo of ieee-ce_r50_1xb8-61e_rgbnt201.py (full model, CE only) on the
# scaled-down demo model and the synthetic set
# (ieee/ieee_r18_1xb16-8e_synthetic-demo.py, itself the CE + 3M row).
_base_ = ['../ieee/ieee_r18_1xb16-8e_synthetic-demo.py']

model = dict(head=dict(metric_losses=[]))
