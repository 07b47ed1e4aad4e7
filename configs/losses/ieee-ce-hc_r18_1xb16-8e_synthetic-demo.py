# Demo of ieee-ce-hc_r50_1xb8-61e_rgbnt201.py (full model, CE + HC loss with
# the same settings: weight 0.5, margin 0, L2-normalised features) on the
# scaled-down demo model and the synthetic set
# (ieee/ieee_r18_1xb16-8e_synthetic-demo.py).
_base_ = ['../ieee/ieee_r18_1xb16-8e_synthetic-demo.py']

model = dict(
    head=dict(metric_losses=[
        dict(
            type='HeteroCenterLoss',
            margin=0.0,
            distance='squared_l2',
            reduction='sum',
            normalize=True,
            loss_weight=0.5)
    ]))
