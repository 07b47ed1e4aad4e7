# Copyright (c) mmieee contributors.
from .bnneck_head import BNNeckHead
from .ieee_head import IEEEHead

__all__ = ['BNNeckHead', 'IEEEHead']
