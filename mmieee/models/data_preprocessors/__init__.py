# Copyright (c) mmieee contributors.
from .multi_modal_data_preprocessor import MultiModalDataPreprocessor

__all__ = ['MultiModalDataPreprocessor']
