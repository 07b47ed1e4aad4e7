# Copyright (c) mmieee contributors.
from .multi_stream_backbone import MultiStreamBackbone

__all__ = ['MultiStreamBackbone']
