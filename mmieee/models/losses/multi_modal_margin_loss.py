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
import torch
import torch.nn.functional as F
from torch import nn

from mmieee.registry import MODELS

_DISTANCES = ('l2', 'squared_l2')
_REDUCTIONS = ('sum', 'mean')


@MODELS.register_module()
class MultiModalMarginLoss(nn.Module):
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
        super().__init__()
        if distance not in _DISTANCES:
            raise ValueError(f'MultiModalMarginLoss: distance must be one of '
                             f'{_DISTANCES}, got {distance!r}')
        if reduction not in _REDUCTIONS:
            raise ValueError(f'MultiModalMarginLoss: reduction must be one '
                             f'of {_REDUCTIONS}, got {reduction!r}')
        if not loss_name.startswith('loss_'):
            raise ValueError('MultiModalMarginLoss: loss_name must start with '
                             f'"loss_" (mmengine sums only those), got '
                             f'{loss_name!r}')
        self.margin = margin
        self.distance = distance
        self.reduction = reduction
        self.normalize = normalize
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """str: Key of this loss in the head's loss dict."""
        return self._loss_name

    def forward(self, feats: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Compute the 3M loss.

        Args:
            feats (Tensor): (B, M, D) per-modality features, M >= 2.
            labels (Tensor): (B,) identity labels (any integer values).

        Returns:
            Tensor: Scalar loss (already multiplied by ``loss_weight``).
        """
        if feats.dim() != 3 or feats.size(1) < 2:
            raise ValueError('MultiModalMarginLoss expects features of shape '
                             '(B, M, D) with M >= 2, got '
                             f'{tuple(feats.shape)}')
        labels = labels.reshape(-1)
        if labels.numel() != feats.size(0):
            raise ValueError(f'MultiModalMarginLoss: {labels.numel()} labels '
                             f'for {feats.size(0)} samples')
        if self.normalize:
            feats = F.normalize(feats, p=2, dim=-1)
        # Centres per identity: scatter-add the samples of each label value.
        _, inverse, counts = torch.unique(
            labels, return_inverse=True, return_counts=True)
        num_ids = counts.numel()
        sums = feats.new_zeros((num_ids, ) + feats.shape[1:])
        sums.index_add_(0, inverse, feats)
        centres = sums / counts.to(feats.dtype).view(-1, 1, 1)  # (U, M, D)

        num_modalities = feats.size(1)
        deviations = []
        for j in range(num_modalities):
            for k in range(j + 1, num_modalities):
                dist = (centres[:, j] - centres[:, k]).pow(2).sum(-1)
                if self.distance == 'l2':
                    # clamp: sqrt has an infinite gradient at 0.
                    dist = dist.clamp_min(1e-12).sqrt()
                deviations.append((self.margin - dist).abs())
        per_id = torch.stack(deviations, dim=1).amax(dim=1)  # (U,)
        loss = per_id.sum() if self.reduction == 'sum' else per_id.mean()
        return self.loss_weight * loss
