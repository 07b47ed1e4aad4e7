# Copyright (c) mmieee contributors.
"""Feature-level fusion schemes compared with CIM in the paper's Fig. 6
(the image-level one, ``EarlySumFusion``, is a backbone)."""
from .base_fusion import BaseFusion
from .late_concat_fusion import LateConcatFusion
from .late_sum_fusion import LateSumFusion
from .progressive_fusion import ProgressiveFusion

__all__ = [
    'BaseFusion', 'LateConcatFusion', 'LateSumFusion', 'ProgressiveFusion'
]
