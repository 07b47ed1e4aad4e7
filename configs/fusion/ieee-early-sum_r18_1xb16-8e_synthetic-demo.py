# Demo of ieee-early-sum_r50_1xb8-61e_rgbnt201.py (early fusion by image
# summation, one stream, one branch, CE only) on the scaled-down demo model
# and the synthetic set (ieee/ieee_r18_1xb16-8e_synthetic-demo.py).
_base_ = ['../ieee/ieee_r18_1xb16-8e_synthetic-demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='EarlySumFusion',
        # the stream of the demo config
        backbone=dict(
            type='mmpretrain.ResNet',
            depth=18,
            strides=(1, 2, 2, 1),
            out_indices=(3, ))),
    neck=dict(cim=None),
    head=dict(metric_losses=[]))
