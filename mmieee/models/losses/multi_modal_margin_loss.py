# Copyright (c) mmieee contributors.
"""Multi-modal margin loss, 3M (paper Eq. 6; DESIGN §4, "Losses").

For every identity present in the batch, the centre c_m of each modality m
is the mean of that identity's (L2-normalised) modality-m features. The loss
of the identity is the largest deviation of a modality-centre distance from
the margin::

    loss_id = max_{j < k} | margin - d(c_j, c_k) |

and the batch loss is the sum (official) or mean of loss_id over the
identities, times ``loss_weight``. The paper says d is the L2 distance; the
released code uses the squared L2 distance (``MSELoss(reduction='sum')``) and
sums over identities -- the defaults here. Samples are grouped by label
value, so any batch order (and identities seen once) is handled.
"""
import torch.nn.functional as F
from torch import Tensor

from mmieee.registry import MODELS

from .base_metric_loss import (DISTANCES, REDUCTIONS, BaseMetricLoss,
                               check_choice, modality_centers,
                               modality_pair_distances)


@MODELS.register_module()
class MultiModalMarginLoss(BaseMetricLoss):
    """3M loss on per-modality features.

    Metric-loss interface: ``input_level = 'modality'``, so the head passes
    (B, M, D) features (D = P * C, each modality's concatenated parts).

    Args:
        margin (float): Target distance between modality centres.
            Defaults to 1.0.
        distance (str): ``'squared_l2'`` (official code) or ``'l2'`` (paper
            text). Defaults to ``'squared_l2'``.
        reduction (str): Reduction over identities, ``'sum'`` (official) or
            ``'mean'``. Defaults to ``'sum'``.
        normalize (bool): L2-normalise each modality feature before taking
            centres (official). Defaults to True.
        loss_weight (float): δ of Eq. 8. Defaults to 1.0.
        loss_name (str): Key of the loss in the loss dict; must start with
            ``loss_``. Defaults to ``'loss_3m'``.
    """

    input_level = 'modality'

    def __init__(self,
                 margin: float = 1.0,
                 distance: str = 'squared_l2',
                 reduction: str = 'sum',
                 normalize: bool = True,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_3m') -> None:
        super().__init__(loss_weight=loss_weight, loss_name=loss_name)
        check_choice(type(self).__name__, 'distance', distance, DISTANCES)
        check_choice(type(self).__name__, 'reduction', reduction, REDUCTIONS)
        self.margin = margin
        self.distance = distance
        self.reduction = reduction
        self.normalize = normalize

    def forward(self, feats: Tensor, labels: Tensor) -> Tensor:
        """Compute the 3M loss.

        Args:
            feats (Tensor): (B, M, D) per-modality features, M >= 2.
            labels (Tensor): (B,) identity labels (any integer values).

        Returns:
            Tensor: Scalar loss (already multiplied by ``loss_weight``).
        """
        labels = self.check_modality_inputs(feats, labels)
        if self.normalize:
            feats = F.normalize(feats, p=2, dim=-1)
        centres = modality_centers(feats, labels)  # (U, M, D)
        dist = modality_pair_distances(centres, self.distance)  # (U, pairs)
        per_id = (self.margin - dist).abs().amax(dim=1)  # (U,)
        loss = per_id.sum() if self.reduction == 'sum' else per_id.mean()
        return self.loss_weight * loss
