# Demo of ieee-ce-center_r50_1xb8-61e_rgbnt201.py (full model, CE + center
# loss, same weight and centre rate alpha) on the scaled-down demo model and
# the synthetic set (ieee/ieee_r18_1xb16-8e_synthetic-demo.py): lr 0.01
# there, so lr_mult = 0.5 / (0.01 * 5e-4) = 1e5.
_base_ = ['../ieee/ieee_r18_1xb16-8e_synthetic-demo.py']

center_loss_weight = 5e-4
center_alpha = 0.5
model = dict(
    head=dict(metric_losses=[
        dict(
            type='CenterLoss',
            num_classes=40,  # = model.head.num_classes
            feat_dim=768,  # = 3 modalities x 4 parts x 64
            reduction='mean',
            loss_weight=center_loss_weight)
    ]))
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            '.centers':
            dict(
                lr_mult=center_alpha / (0.01 * center_loss_weight),
                decay_mult=0.0,
                momentum=0.0,
                nesterov=False)
        }))
