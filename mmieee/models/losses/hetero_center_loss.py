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
import torch.nn.functional as F
from torch import Tensor

from mmieee.registry import MODELS

from .base_metric_loss import (DISTANCES, REDUCTIONS, BaseMetricLoss,
                               check_choice, modality_centers,
                               modality_pair_distances)


@MODELS.register_module()
class HeteroCenterLoss(BaseMetricLoss):
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
        super().__init__(loss_weight=loss_weight, loss_name=loss_name)
        check_choice(type(self).__name__, 'distance', distance, DISTANCES)
        check_choice(type(self).__name__, 'reduction', reduction, REDUCTIONS)
        self.margin = margin
        self.distance = distance
        self.reduction = reduction
        self.normalize = normalize

    def forward(self, feats: Tensor, labels: Tensor) -> Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): Per-modality features, shape (B, M, D), M >= 2.
            labels (Tensor): Identity labels, shape (B,).

        Returns:
            Tensor: Scalar loss, multiplied by ``loss_weight``.
        """
        labels = self.check_modality_inputs(feats, labels)
        if feats.size(0) == 0:
            return feats.sum() * 0.0
        if self.normalize:
            feats = F.normalize(feats, p=2, dim=2)
        centers = modality_centers(feats, labels)  # (U, M, D)
        dist = modality_pair_distances(centers, self.distance)  # (U, pairs)
        per_id = F.relu(dist - self.margin).sum(dim=1)  # (U,)
        loss = per_id.sum() if self.reduction == 'sum' else per_id.mean()
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'margin={self.margin}, distance={self.distance!r}, '
                f'reduction={self.reduction!r}, normalize={self.normalize}, '
                f'loss_weight={self.loss_weight}, '
                f'loss_name={self.loss_name!r}')
