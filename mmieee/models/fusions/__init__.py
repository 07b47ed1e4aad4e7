# Copyright (c) mmieee contributors.
"""Fusion schemes compared with CIM in the paper's Fig. 6."""
from .base_fusion import BaseFusion
from .early_sum_fusion import EarlySumFusion
from .late_concat_fusion import LateConcatFusion
from .late_sum_fusion import LateSumFusion
from .progressive_fusion import ProgressiveFusion

__all__ = [
    'BaseFusion', 'EarlySumFusion', 'LateConcatFusion', 'LateSumFusion',
    'ProgressiveFusion'
]
