# Loss study (paper Fig. 7 c): the full IEEE model (CIM + REM) trained with
# label-smoothed CE + hetero-center (HC) loss (Zhu et al., Neurocomputing
# 2020) instead of 3M. Everything else is the official recipe
# (ieee_r50_1xb8-61e_rgbnt201.py).
# Settings, from the HC-loss authors' code
# (github.com/98zyx/Hetero-center-loss-for-cross-modality-person-re-id,
# train.py: --w_hc 0.5, --thd 0, squared-L2 centre distance summed over ids):
# weight 0.5, margin 0, squared L2, sum over the identities of the batch.
# They apply HC to each of their 6 part features and add the 6 losses; the
# head feeds each modality's 6 x 128 parts concatenated (input_level=
# 'modality': (B, 3, 768)), and with the squared L2 distance the sum over
# parts equals HC on the (unnormalised) concatenation. Two modalities
# there, three here: the loss sums over the 3 modality pairs
# (mmieee/models/losses/hetero_center_loss.py).
# Our choice: each modality's feature is L2-normalised before the centres
# are taken (normalize=True), as 3M does in the official recipe, so that HC
# and 3M see the same centres and differ only in what they ask of the
# centre distances (0 for HC, the margin 1 for 3M). Without it, on the demo
# model, the HC term (hundreds at the start, on unnormalised ReLU features)
# overwhelms CE: HC drops to 0 while CE stays at its chance value and the
# test mAP at chance level (docs/studies.md).
# Paper: Fig. 7 shows t-SNE plots only; no number for this setting.
_base_ = ['../ieee/ieee_r50_1xb8-61e_rgbnt201.py']

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
