# Loss study (paper Fig. 7 c): the full IEEE model (CIM + REM) trained with
# label-smoothed CE + hetero-center (HC) loss (Zhu et al., Neurocomputing
# 2020) instead of 3M. Everything else is the official recipe
# (ieee_r50_1xb8-61e_rgbnt201.py).
# Settings, from the HC-loss authors' code
# (github.com/98zyx/Hetero-center-loss-for-cross-modality-person-re-id,
# train.py: --w_hc 0.5, --thd 0, squared-L2 centre distance summed over ids):
# weight 0.5, margin 0, squared L2, sum over the identities of the batch.
# They apply HC to each of their 6 part features and add the 6 losses; with
# the squared L2 distance that sum equals HC on the concatenated parts,
# which is what the head feeds (input_level='modality': (B, 3, 6 x 128)).
# Two modalities there, three here: the loss sums over the 3 modality pairs
# (mmieee/models/losses/hetero_center_loss.py).
# Paper: Fig. 7 shows t-SNE plots only; no number for this setting.
_base_ = ['../ieee/ieee_r50_1xb8-61e_rgbnt201.py']

model = dict(
    head=dict(metric_losses=[
        dict(
            type='HeteroCenterLoss',
            margin=0.0,
            distance='squared_l2',
            reduction='sum',
            normalize=False,
            loss_weight=0.5)
    ]))
