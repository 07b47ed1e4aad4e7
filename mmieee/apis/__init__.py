# Copyright (c) mmieee contributors.
from mmieee.evaluation.metrics import DumpReIDFeatures, collect_features

from .inference import extract_features, init_model

__all__ = [
    'DumpReIDFeatures', 'collect_features', 'extract_features', 'init_model'
]
