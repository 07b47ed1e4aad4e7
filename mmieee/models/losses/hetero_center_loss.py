# Copyright (c) mmieee contributors.
"""Hetero-center (HC) loss (Zhu et al., "Hetero-Center Loss for
Cross-Modality Person Re-Identification", Neurocomputing 2020, Eq. 6),
generalised from two modalities to M: a comparison loss of the IEEE paper's
Fig. 7. Written by hand: no OpenMMLab package has it.

Per identity, the modality-centre distances beyond the margin, summed over
the modality pairs::

    loss_id = sum_{j < k} max(0, d(c_j, c_k) - margin)

Zhu et al. use the squared Euclidean distance, margin 0 and a sum over
identities (the defaults here). Unlike 3M, HC only pulls the centres
together. Centres and distances: :mod:`.modality_center_loss`.
"""
import torch.nn.functional as F
from torch import Tensor

from mmieee.registry import MODELS

from .modality_center_loss import ModalityCenterLoss


@MODELS.register_module()
class HeteroCenterLoss(ModalityCenterLoss):
    """Hetero-center loss on per-modality features (B, M, D).

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

    def __init__(self,
                 margin: float = 0.0,
                 distance: str = 'squared_l2',
                 reduction: str = 'sum',
                 normalize: bool = False,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_hc') -> None:
        super().__init__(margin, distance, reduction, normalize, loss_weight,
                         loss_name)

    def per_identity(self, dist: Tensor) -> Tensor:
        """Sum over pairs of ``max(0, d - margin)``."""
        return F.relu(dist - self.margin).sum(dim=1)
