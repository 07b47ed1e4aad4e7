# Copyright (c) mmieee contributors.
"""Center loss (Wen et al., "A Discriminative Feature Learning Approach for
Deep Face Recognition", ECCV 2016, Eq. 2).

A comparison loss of the IEEE paper's Fig. 7, on the fused (B, D) feature,
following the metric-loss interface of :mod:`.base_metric_loss`. Written by
hand: mmpretrain and mmengine have no center loss.

Training the centres
--------------------
Wen et al. update the centres with their own rule (Eq. 4, rate α = 0.5). Here
the centres are an ordinary ``nn.Parameter`` (``centers``) of the head, so the
model's optimizer trains them by gradient descent: the gradient of
``0.5 * ||x - c||^2`` w.r.t. ``c`` is ``c - x``, so plain SGD is Wen's update
with ``α = lr * loss_weight`` (averaged over the batch). With the usual small
``loss_weight`` (≈5e-4 as in BoT-style Re-ID recipes) and lr ≈1e-3 the
centres barely move, so give them a larger learning rate and no weight decay
(weight decay would pull them towards the origin), e.g. in the config::

    optim_wrapper = dict(
        ...,
        paramwise_cfg=dict(custom_keys={
            '.centers': dict(lr_mult=500.0, decay_mult=0.0)}))

(``lr_mult`` such that ``lr * lr_mult * loss_weight`` is around 0.25–0.5.)
"""
import torch
import torch.nn as nn
from torch import Tensor

from mmieee.registry import MODELS

from .base_metric_loss import BaseMetricLoss


@MODELS.register_module()
class CenterLoss(BaseMetricLoss):
    """Center loss with learnable class centres.

    ``loss = loss_weight * reduce_i(0.5 * ||x_i - c_{y_i}||^2)``, where
    ``c`` is a (num_classes, feat_dim) parameter, the reduction over the
    samples of the batch is ``'mean'`` (default) or ``'sum'`` (Wen et al.'s
    Eq. 2 as written). Each sample is pulled towards the centre of its own
    label, so the loss depends on label values only, not on batch order, and
    an id appearing once is handled like any other.

    Args:
        num_classes (int): Number of training identities.
        feat_dim (int): Dimension D of the fused feature (M·P·C for the IEEE
            head, e.g. 2304).
        reduction (str): ``'mean'`` or ``'sum'`` over the batch. Defaults to
            ``'mean'``.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
        loss_name (str): Key of the loss in the head's loss dict; must start
            with ``loss_``. Defaults to ``'loss_center'``.
    """

    #: The head feeds the fused (B, M·P·C) feature.
    input_level = 'fused'

    def __init__(self,
                 num_classes: int,
                 feat_dim: int,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_center') -> None:
        super().__init__(loss_weight=loss_weight, loss_name=loss_name)
        if num_classes < 1 or feat_dim < 1:
            raise ValueError(
                f'CenterLoss: num_classes and feat_dim must be positive, '
                f'got num_classes={num_classes}, feat_dim={feat_dim}.')
        if reduction not in ('mean', 'sum'):
            raise ValueError(f'CenterLoss: reduction must be "mean" or '
                             f'"sum", got {reduction!r}.')
        self.num_classes = num_classes
        self.feat_dim = feat_dim
        self.reduction = reduction
        # Random init, as in Wen et al.'s and the Re-ID reference code.
        self.centers = nn.Parameter(torch.randn(num_classes, feat_dim))

    def forward(self, feats: Tensor, labels: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): Fused features, shape (B, feat_dim).
            labels (Tensor): Identity labels in ``[0, num_classes)``,
                shape (B,).

        Returns:
            Tensor: Scalar loss, multiplied by ``loss_weight``.
        """
        if feats.dim() != 2 or feats.size(1) != self.feat_dim:
            raise ValueError(
                f'CenterLoss expects fused features of shape (B, '
                f'{self.feat_dim}), got shape {tuple(feats.shape)}.')
        if labels.dim() != 1 or labels.numel() != feats.size(0):
            raise ValueError(
                f'CenterLoss expects labels of shape ({feats.size(0)},), '
                f'got shape {tuple(labels.shape)}.')
        if labels.numel() and (int(labels.min()) < 0 or
                               int(labels.max()) >= self.num_classes):
            raise ValueError(
                f'CenterLoss: labels must lie in [0, {self.num_classes}), '
                f'got values from {int(labels.min())} to '
                f'{int(labels.max())}.')
        centers = self.centers[labels.long()]
        per_sample = 0.5 * (feats - centers).pow(2).sum(dim=1)
        loss = per_sample.mean() if self.reduction == 'mean' \
            else per_sample.sum()
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, feat_dim={self.feat_dim}, '
                f'reduction={self.reduction!r}, '
                f'loss_weight={self.loss_weight}, '
                f'loss_name={self.loss_name!r}')
