# Copyright (c) mmieee contributors.
from .early_sum_fusion import EarlySumFusion
from .multi_stream_backbone import MultiStreamBackbone
from .reid_vit import ReIDViT

__all__ = ['EarlySumFusion', 'MultiStreamBackbone', 'ReIDViT']
