# Copyright (c) mmieee contributors.
"""Pictures of what a multi-modal Re-ID model learned: rank lists, t-SNE,
activation maps (see docs/visualization.md and ``tools/visualization``)."""
from .activation_maps import grad_cam_maps, preprocess, stream_activation_maps
from .ranked_queries import (ORDERS, find_reid_metric, rank_queries,
                             select_queries)
from .reid_visualizer import ReIDVisualizer
from .sample_images import SampleImageLoader
from .split_features import (build_split_dataset, check_rows,
                             extract_test_features, load_feature_dump,
                             load_test_features)
from .tsne import LEVELS, MARKERS, plot_tsne, tsne_embedding, tsne_points

__all__ = [
    'ReIDVisualizer', 'find_reid_metric', 'rank_queries', 'select_queries',
    'ORDERS', 'SampleImageLoader', 'build_split_dataset', 'check_rows',
    'extract_test_features', 'load_feature_dump', 'load_test_features',
    'stream_activation_maps', 'grad_cam_maps', 'preprocess', 'tsne_points',
    'tsne_embedding', 'plot_tsne', 'LEVELS', 'MARKERS'
]
