# Copyright (c) mmieee contributors.
"""Batch-hard triplet loss (Hermans et al., "In Defense of the Triplet Loss
for Person Re-Identification", 2017, Eq. 5 "batch hard" and the soft-margin
variant of § 3.3).

A comparison loss for the IEEE paper's studies. It follows the metric-loss
interface of :mod:`.base_metric_loss`: it works on the fused (B, D) feature
and groups samples by label value, never by batch position.

Written by hand because neither mmpretrain nor mmengine ships a batch-hard
triplet loss with this interface.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from mmieee.registry import MODELS

from .base_metric_loss import BaseMetricLoss


def pairwise_euclidean(feats: Tensor, eps: float = 1e-12) -> Tensor:
    """Euclidean distance between every pair of rows.

    Args:
        feats (Tensor): Features, shape (B, D).
        eps (float): Lower clamp of the squared distance before the square
            root, so that the gradient stays finite at zero distance.

    Returns:
        Tensor: Distance matrix, shape (B, B).
    """
    sq = feats.pow(2).sum(dim=1)
    dist2 = sq[:, None] + sq[None, :] - 2.0 * feats @ feats.t()
    return dist2.clamp(min=eps).sqrt()


@MODELS.register_module()
class TripletLoss(BaseMetricLoss):
    """Batch-hard triplet loss on the fused feature.

    For every anchor ``a`` of the batch, the hardest positive is the farthest
    other sample with the same label and the hardest negative the closest
    sample with a different label; the loss of the anchor is
    ``max(0, d(a, p) - d(a, n) + margin)`` or, with ``margin=None`` (soft
    margin), ``log(1 + exp(d(a, p) - d(a, n)))``. The loss is the mean over
    the anchors that have at least one other sample of their identity and at
    least one sample of another identity; anchors of an identity that appears
    once in the batch are left out (there is no positive pair to pull). When
    no anchor qualifies the loss is 0 (still attached to the graph).

    Args:
        margin (float, optional): Margin of the hinge. ``None`` selects the
            soft margin. Defaults to 0.3.
        normalize (bool): L2-normalise the features before measuring
            distances. Defaults to False.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
        loss_name (str): Key of the loss in the head's loss dict; must start
            with ``loss_``. Defaults to ``'loss_triplet'``.
    """

    #: The head feeds the fused (B, M·P·C) feature.
    input_level = 'fused'

    def __init__(self,
                 margin: Optional[float] = 0.3,
                 normalize: bool = False,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_triplet') -> None:
        super().__init__(loss_weight=loss_weight, loss_name=loss_name)
        if margin is not None and margin < 0:
            raise ValueError(
                f'TripletLoss: margin must be >= 0 or None (soft margin), '
                f'got {margin}.')
        self.margin = margin
        self.normalize = normalize

    def forward(self, feats: Tensor, labels: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): Fused features, shape (B, D).
            labels (Tensor): Identity labels, shape (B,).

        Returns:
            Tensor: Scalar loss, multiplied by ``loss_weight``.
        """
        if feats.dim() != 2:
            raise ValueError(
                f'TripletLoss expects fused features of shape (B, D), got '
                f'shape {tuple(feats.shape)}.')
        if labels.dim() != 1 or labels.numel() != feats.size(0):
            raise ValueError(
                f'TripletLoss expects labels of shape ({feats.size(0)},), '
                f'got shape {tuple(labels.shape)}.')
        if self.normalize:
            feats = F.normalize(feats, p=2, dim=1)
        dist = pairwise_euclidean(feats)

        same = labels[:, None] == labels[None, :]
        eye = torch.eye(len(labels), dtype=torch.bool, device=feats.device)
        pos_mask = same & ~eye
        neg_mask = ~same
        valid = pos_mask.any(dim=1) & neg_mask.any(dim=1)
        if not bool(valid.any()):
            return feats.sum() * 0.0

        hard_pos = dist.masked_fill(~pos_mask, float('-inf')).amax(dim=1)
        hard_neg = dist.masked_fill(~neg_mask, float('inf')).amin(dim=1)
        diff = (hard_pos - hard_neg)[valid]
        if self.margin is None:
            per_anchor = F.softplus(diff)
        else:
            per_anchor = F.relu(diff + self.margin)
        return self.loss_weight * per_anchor.mean()

    def extra_repr(self) -> str:
        return (f'margin={self.margin}, normalize={self.normalize}, '
                f'loss_weight={self.loss_weight}, '
                f'loss_name={self.loss_name!r}')
