# Copyright (c) mmieee contributors.
"""mmengine metrics for Re-ID evaluation."""
from .dump_reid_features import DumpReIDFeatures
from .reid_metric import ReIDMetric

__all__ = ['DumpReIDFeatures', 'ReIDMetric']
