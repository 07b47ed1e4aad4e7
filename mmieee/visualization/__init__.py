# Copyright (c) mmieee contributors.
"""Pictures of what a multi-modal Re-ID model learned: rank lists, t-SNE,
activation maps (see docs/visualization.md and ``tools/visualization``)."""
from .activation_maps import (activation_map_name, grad_cam_maps,
                              is_vit_backbone, preprocess,
                              stream_activation_maps)
from .rank_list import (ORDERS, draw_ranked_query, draw_ranked_row,
                        pick_visualizer, rank_list_title, rank_rows,
                        select_queries, write_rank_lists)
from .reid_visualizer import ReIDVisualizer
from .sample_images import SampleImageLoader
from .tsne import LEVELS, MARKERS, plot_tsne, tsne_embedding, tsne_points

__all__ = [
    'ReIDVisualizer', 'rank_rows', 'select_queries', 'ORDERS',
    'draw_ranked_query', 'draw_ranked_row', 'pick_visualizer',
    'rank_list_title', 'write_rank_lists', 'SampleImageLoader',
    'stream_activation_maps', 'activation_map_name', 'is_vit_backbone',
    'grad_cam_maps', 'preprocess', 'tsne_points',
    'tsne_embedding', 'plot_tsne', 'LEVELS', 'MARKERS'
]
