# Copyright (c) mmieee contributors.
from .center_loss import CenterLoss
from .hetero_center_loss import HeteroCenterLoss
from .triplet_loss import TripletLoss

__all__ = ['CenterLoss', 'HeteroCenterLoss', 'TripletLoss']
