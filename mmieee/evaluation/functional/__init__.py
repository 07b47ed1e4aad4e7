# Copyright (c) mmieee contributors.
"""Pure Re-ID evaluation functions (numpy / torch, no mmengine)."""
from .distance import PairwiseDistance, compute_distance
from .feature_evaluation import evaluate_features
from .ranking import RankAccumulator, evaluate_rank, evaluate_rows
from .re_ranking import KReciprocalReRanking, re_ranking
from .retrieval import distance_rows, rank_gallery

__all__ = [
    'compute_distance', 'PairwiseDistance', 'evaluate_rank', 'evaluate_rows',
    'RankAccumulator', 'evaluate_features', 'KReciprocalReRanking',
    're_ranking', 'distance_rows', 'rank_gallery'
]
