# Copyright (c) mmieee contributors.
from .center_loss import CenterLoss
from .hetero_center_loss import HeteroCenterLoss
from .multi_modal_margin_loss import MultiModalMarginLoss
from .triplet_loss import TripletLoss

__all__ = [
    'CenterLoss', 'HeteroCenterLoss', 'MultiModalMarginLoss', 'TripletLoss'
]
