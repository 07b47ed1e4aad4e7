# Loss study (paper Fig. 7 b): the full IEEE model (CIM + REM) trained with
# label-smoothed CE + center loss (Wen et al., ECCV 2016) instead of 3M,
# on the fused 3 x 6 x 128 = 2304-d test feature. Everything else is the
# official recipe (ieee_r50_1xb8-61e_rgbnt201.py).
# Weights (the IEEE paper gives none for the compared losses):
# - loss weight 5e-4: BoT's center-loss weight (Luo et al., "Bag of Tricks
#   and A Strong Baseline for Deep Person Re-identification", 2019,
#   github.com/michuanhaohao/reid-strong-baseline, CENTER_LOSS_WEIGHT);
# - the centres are learnt by the model's SGD; plain SGD on them is Wen et
#   al.'s centre update with rate alpha = lr * lr_mult * loss_weight
#   (mmieee/models/losses/center_loss.py). alpha = 0.5, Wen et al.'s value
#   and BoT's CENTER_LR, with this config's lr 1e-3 (ieee_sgd_61e.py) gives
#   lr_mult = 0.5 / (1e-3 * 5e-4) = 1e6; like Wen's update, no momentum and
#   no weight decay on the centres (our choice). The lr schedule (x0.1 at
#   epochs 20, 40) applies to them too (BoT keeps 0.5; our choice). Changing
#   the lr (--cfg-options, --auto-scale-lr) changes alpha.
# Paper: Fig. 7 shows t-SNE plots only; no number for this setting.
_base_ = ['../ieee/ieee_r50_1xb8-61e_rgbnt201.py']

center_loss_weight = 5e-4
center_alpha = 0.5
model = dict(
    head=dict(metric_losses=[
        dict(
            type='CenterLoss',
            num_classes=171,  # = model.head.num_classes
            feat_dim=2304,  # = 3 modalities x 6 parts x 128
            reduction='mean',
            loss_weight=center_loss_weight)
    ]))
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            '.centers':
            dict(
                lr_mult=center_alpha / (1e-3 * center_loss_weight),
                decay_mult=0.0,
                momentum=0.0,
                nesterov=False)
        }))
