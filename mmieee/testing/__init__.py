# Copyright (c) mmieee contributors.
"""Data factories for tests and the demo (as ``mmdet.testing``), and the
reader of the docs' shell commands that the docs tests run
(:mod:`.doc_commands`)."""
from .synthetic import LAYOUTS, generate_synthetic_dataset, render_sample

__all__ = ['LAYOUTS', 'generate_synthetic_dataset', 'render_sample']
