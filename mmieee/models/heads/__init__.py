# Copyright (c) mmieee contributors.
from .ieee_head import IEEEHead

__all__ = ['IEEEHead']
