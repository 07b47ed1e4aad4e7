# Copyright (c) mmieee contributors.
"""Multi-modal margin loss, 3M (IEEE paper Eq. 6).

Per identity, the largest deviation of a modality-centre distance from the
margin::

    loss_id = max_{j < k} | margin - d(c_j, c_k) |

summed (official) or averaged over the identities, times ``loss_weight``
(δ of Eq. 8). The paper says d is the L2 distance; the released code uses
the squared L2 distance (``MSELoss(reduction='sum')``) of L2-normalised
features and sums over identities: the defaults here. Centres and distances:
:mod:`.modality_center_loss`.
"""
from torch import Tensor

from mmieee.registry import MODELS

from .modality_center_loss import ModalityCenterLoss


@MODELS.register_module()
class MultiModalMarginLoss(ModalityCenterLoss):
    """3M loss on per-modality features (B, M, D).

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

    def __init__(self,
                 margin: float = 1.0,
                 distance: str = 'squared_l2',
                 reduction: str = 'sum',
                 normalize: bool = True,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_3m') -> None:
        super().__init__(margin, distance, reduction, normalize, loss_weight,
                         loss_name)

    def per_identity(self, dist: Tensor) -> Tensor:
        """``max`` over pairs of ``|margin - d|``."""
        return (self.margin - dist).abs().amax(dim=1)
