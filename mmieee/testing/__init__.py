# Copyright (c) mmieee contributors.
"""Data factories for tests and the demo (as ``mmdet.testing``)."""
from .synthetic import LAYOUTS, generate_synthetic_dataset, render_sample

__all__ = ['LAYOUTS', 'generate_synthetic_dataset', 'render_sample']
