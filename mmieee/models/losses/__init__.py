# Copyright (c) mmieee contributors.
from .base_metric_loss import BaseMetricLoss
from .center_loss import CenterLoss
from .hetero_center_loss import HeteroCenterLoss
from .modality_center_loss import (ModalityCenterLoss, modality_centers,
                                   modality_pair_distances)
from .multi_modal_margin_loss import MultiModalMarginLoss
from .triplet_loss import TripletLoss

__all__ = [
    'BaseMetricLoss', 'ModalityCenterLoss', 'modality_centers',
    'modality_pair_distances',
    'CenterLoss', 'HeteroCenterLoss', 'MultiModalMarginLoss', 'TripletLoss'
]
