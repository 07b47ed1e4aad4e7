# Copyright (c) mmieee contributors.
"""mmengine metrics for Re-ID evaluation."""
from .reid_metric import ReIDMetric

__all__ = ['ReIDMetric']
