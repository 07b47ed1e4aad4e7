# Demo of ieee-late-sum_r50_1xb8-61e_rgbnt201.py (late fusion by summing the
# streams' maps, one branch, CE only) on the scaled-down demo model and the
# synthetic set (ieee/ieee_r18_1xb16-8e_synthetic-demo.py).
_base_ = ['../ieee/ieee_r18_1xb16-8e_synthetic-demo.py']

model = dict(
    neck=dict(
        cim=dict(_delete_=True, type='LateSumFusion'), global_source='cim'),
    head=dict(metric_losses=[]))
