# IEEE on RGBNT201 as the paper's equations read: REM of Eq. 3-4
# (W1 part, W2 / W3 global key / value, softmax of the part-global dot
# products across the P parts; `similarity='hadamard'` is the other reading of
# Eq. 3), the global feature pooled from the CIM output, and the 3M loss with
# the L2 (not squared) distance between modality centres.
# This is an interpretation; the paper's numbers come from the official
# variant (ieee_r50_1xb8-61e_rgbnt201.py).
_base_ = ['./ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(
    neck=dict(
        rem=dict(type='RelationEmbedding', variant='paper',
                 similarity='dot'),
        global_source='cim'),
    head=dict(metric_losses=[
        dict(
            type='MultiModalMarginLoss',
            margin=1.0,
            distance='l2',
            reduction='sum',
            normalize=True,
            loss_weight=1.0)
    ]))
