# Copyright (c) mmieee contributors.
"""mmengine metrics for Re-ID evaluation."""
from .dump_reid_features import DumpReIDFeatures, collect_features
from .reid_metric import ReIDMetric

__all__ = ['DumpReIDFeatures', 'ReIDMetric', 'collect_features']
