# Copyright (c) mmieee contributors.
"""Hetero-center (HC) loss (Zhu et al., "Hetero-Center Loss for
Cross-Modality Person Re-Identification", Neurocomputing 2020, Eq. 6),
generalised from two modalities to M.

A comparison loss of the IEEE paper's studies (issue 3, item 7; DESIGN §4
"Losses"), on per-modality features (B, M, D), following the team's
metric-loss interface. Written by hand: no OpenMMLab package has it.

For each identity ``u`` present in the batch the centre of modality ``m`` is
``c_{u,m} = mean of feats[i, m] over the samples i with label u``; the loss of
the identity sums, over the modality pairs ``m < n``,
``max(0, d(c_{u,m}, c_{u,n}) - margin)``. Zhu et al. use the squared
Euclidean distance, margin 0 and a sum over identities (the defaults here).
The centres are built as for the IEEE paper's 3M loss (Eq. 6), which instead
drives the pair distances towards a margin (``|margin - d|``) and takes the
max over pairs; HC only pulls the centres together.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmieee.registry import MODELS


def modality_centers(feats: Tensor, labels: Tensor) -> Tensor:
    """Per-identity, per-modality mean features (grouped by label value).

    Args:
        feats (Tensor): Features, shape (B, M, D).
        labels (Tensor): Labels, shape (B,).

    Returns:
        Tensor: Centres, shape (U, M, D), U = number of distinct labels, in
        ascending label order.
    """
    _, inverse = torch.unique(labels, sorted=True, return_inverse=True)
    num_ids = int(inverse.max()) + 1
    sums = feats.new_zeros((num_ids, ) + tuple(feats.shape[1:]))
    sums = sums.index_add(0, inverse, feats)
    counts = torch.bincount(inverse, minlength=num_ids).to(feats.dtype)
    return sums / counts[:, None, None]


@MODELS.register_module()
class HeteroCenterLoss(nn.Module):
    """Hetero-center loss between the modality centres of each identity.

    Args:
        margin (float): Distances below the margin are not penalised.
            Defaults to 0.0 (Zhu et al.).
        distance (str): ``'squared_l2'`` (Zhu et al.) or ``'l2'``.
            Defaults to ``'squared_l2'``.
        reduction (str): ``'sum'`` (Zhu et al.) or ``'mean'`` over the
            identities of the batch. Defaults to ``'sum'``.
        normalize (bool): L2-normalise each modality feature before computing
            centres. Defaults to False.
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
        loss_name (str): Key of the loss in the head's loss dict; must start
            with ``loss_``. Defaults to ``'loss_hc'``.
    """

    #: The head feeds per-modality (B, M, P·C) features.
    input_level = 'modality'

    def __init__(self,
                 margin: float = 0.0,
                 distance: str = 'squared_l2',
                 reduction: str = 'sum',
                 normalize: bool = False,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_hc') -> None:
        super().__init__()
        if distance not in ('squared_l2', 'l2'):
            raise ValueError(f'HeteroCenterLoss: distance must be '
                             f'"squared_l2" or "l2", got {distance!r}.')
        if reduction not in ('sum', 'mean'):
            raise ValueError(f'HeteroCenterLoss: reduction must be "sum" or '
                             f'"mean", got {reduction!r}.')
        if not loss_name.startswith('loss_'):
            raise ValueError(f'HeteroCenterLoss: loss_name must start with '
                             f'"loss_", got {loss_name!r}.')
        self.margin = margin
        self.distance = distance
        self.reduction = reduction
        self.normalize = normalize
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """str: Key of this loss in the loss dict."""
        return self._loss_name

    def forward(self, feats: Tensor, labels: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): Per-modality features, shape (B, M, D), M >= 2.
            labels (Tensor): Identity labels, shape (B,).

        Returns:
            Tensor: Scalar loss, multiplied by ``loss_weight``.
        """
        if feats.dim() != 3 or feats.size(1) < 2:
            raise ValueError(
                f'HeteroCenterLoss expects per-modality features of shape '
                f'(B, M, D) with M >= 2, got shape {tuple(feats.shape)}.')
        if labels.dim() != 1 or labels.numel() != feats.size(0):
            raise ValueError(
                f'HeteroCenterLoss expects labels of shape ({feats.size(0)},)'
                f', got shape {tuple(labels.shape)}.')
        if feats.size(0) == 0:
            return feats.sum() * 0.0
        if self.normalize:
            feats = F.normalize(feats, p=2, dim=2)
        centers = modality_centers(feats, labels)  # (U, M, D)
        pairs = torch.combinations(
            torch.arange(feats.size(1), device=feats.device), r=2)
        diff = centers[:, pairs[:, 0]] - centers[:, pairs[:, 1]]  # (U,Q,D)
        dist = diff.pow(2).sum(dim=2)
        if self.distance == 'l2':
            # clamp: finite gradient when two centres coincide
            dist = dist.clamp(min=1e-12).sqrt()
        per_id = F.relu(dist - self.margin).sum(dim=1)  # (U,)
        loss = per_id.sum() if self.reduction == 'sum' else per_id.mean()
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'margin={self.margin}, distance={self.distance!r}, '
                f'reduction={self.reduction!r}, normalize={self.normalize}, '
                f'loss_weight={self.loss_weight}, '
                f'loss_name={self.loss_name!r}')
