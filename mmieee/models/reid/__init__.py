# Copyright (c) mmieee contributors.
from .multi_modal_reid import MultiModalReID

__all__ = ['MultiModalReID']
