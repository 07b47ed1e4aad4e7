# Copyright (c) mmieee contributors.
"""Losses on the distances between the modality centres of each identity:
what the 3M loss (IEEE paper Eq. 6) and the hetero-center loss (Zhu et al.,
Neurocomputing 2020) have in common.

For every identity ``u`` in the batch, the centre of modality ``m`` is the
mean of that identity's modality-``m`` features (optionally L2-normalised
first); ``d(c_{u,j}, c_{u,k})`` is the (squared) L2 distance of every
modality pair ``j < k``. A subclass says how one identity's pair distances
become its loss (:meth:`ModalityCenterLoss.per_identity`); the batch loss is
their sum or mean times ``loss_weight``. Samples are grouped by label value,
never by batch position, so any batch order and identities seen once are
handled.
"""
import torch
import torch.nn.functional as F
from torch import Tensor

from .base_metric_loss import (DISTANCES, REDUCTIONS, BaseMetricLoss,
                               check_choice)


def modality_centers(feats: Tensor, labels: Tensor) -> Tensor:
    """Per-identity, per-modality mean features, grouped by label value.

    Args:
        feats (Tensor): Features, shape (B, M, D).
        labels (Tensor): Identity labels, shape (B,), any integer values in
            any order.

    Returns:
        Tensor: Centres, shape (U, M, D), U = number of distinct labels, in
        ascending label order.
    """
    _, inverse, counts = torch.unique(
        labels, sorted=True, return_inverse=True, return_counts=True)
    sums = feats.new_zeros((counts.numel(), ) + tuple(feats.shape[1:]))
    sums = sums.index_add(0, inverse, feats)
    return sums / counts.to(feats.dtype)[:, None, None]


def modality_pair_distances(centers: Tensor, distance: str) -> Tensor:
    """Distances between the modality centres of each identity.

    Args:
        centers (Tensor): (U, M, D) centres from :func:`modality_centers`.
        distance (str): ``'squared_l2'`` or ``'l2'``.

    Returns:
        Tensor: (U, M·(M-1)/2) distances, pairs (j, k), j < k, in
        lexicographic order.
    """
    check_choice('modality_pair_distances', 'distance', distance, DISTANCES)
    pairs = torch.combinations(
        torch.arange(centers.size(1), device=centers.device), r=2)
    dist = (centers[:, pairs[:, 0]] - centers[:, pairs[:, 1]]).pow(2).sum(-1)
    if distance == 'l2':
        # clamp: sqrt has an infinite gradient where two centres coincide.
        dist = dist.clamp_min(1e-12).sqrt()
    return dist


class ModalityCenterLoss(BaseMetricLoss):
    """Base of the losses on modality-centre distances (see module doc).

    The head feeds per-modality features (B, M, D), D = P·C; it checks when
    it is built that the model has at least two modalities.

    Args:
        margin (float): The margin of the subclass' rule.
        distance (str): ``'squared_l2'`` or ``'l2'``.
        reduction (str): ``'sum'`` or ``'mean'`` over the identities.
        normalize (bool): L2-normalise each modality feature before taking
            centres.
        loss_weight (float): Factor applied to the loss.
        loss_name (str): Key of the loss in the head's loss dict.
    """

    input_level = 'modality'
    #: Pairs of modality centres need at least two modalities.
    min_modalities = 2

    def __init__(self, margin: float, distance: str, reduction: str,
                 normalize: bool, loss_weight: float,
                 loss_name: str) -> None:
        super().__init__(loss_weight=loss_weight, loss_name=loss_name)
        check_choice(type(self).__name__, 'distance', distance, DISTANCES)
        check_choice(type(self).__name__, 'reduction', reduction, REDUCTIONS)
        self.margin = margin
        self.distance = distance
        self.reduction = reduction
        self.normalize = normalize

    def per_identity(self, dist: Tensor) -> Tensor:
        """One identity's loss from its pair distances.

        Args:
            dist (Tensor): (U, pairs) modality-centre distances.

        Returns:
            Tensor: (U,) losses.
        """
        raise NotImplementedError

    def forward(self, feats: Tensor, labels: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): (B, M, D) per-modality features.
            labels (Tensor): (B,) identity labels (any integer values).

        Returns:
            Tensor: Scalar loss (already multiplied by ``loss_weight``).
        """
        if self.normalize:
            feats = F.normalize(feats, p=2, dim=-1)
        centers = modality_centers(feats, labels.reshape(-1))
        per_id = self.per_identity(
            modality_pair_distances(centers, self.distance))
        loss = per_id.sum() if self.reduction == 'sum' else per_id.mean()
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'margin={self.margin}, distance={self.distance!r}, '
                f'reduction={self.reduction!r}, normalize={self.normalize}, '
                f'loss_weight={self.loss_weight}, '
                f'loss_name={self.loss_name!r}')
