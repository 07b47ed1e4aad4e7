# Copyright (c) mmieee contributors.
"""Re-ID evaluation as plain functions (NumPy / torch, no mmengine).

* :func:`evaluate_rank`: CMC, mAP, mINP from a distance matrix;
  :func:`evaluate_features`: the same from features, in bounded memory;
  :func:`evaluate_rows`: from distance rows computed chunk by chunk.
* :func:`evaluate_rank_reference`: the protocol in a few readable lines, the
  definition the fast path is tested against.
* :func:`compute_distance`, :func:`re_ranking`: distance matrices;
  :func:`distance_rows`: the rows the metric and :func:`rank_gallery` (the
  top-k of each query) use.

The classes behind them (``PairwiseDistance``, ``RankAccumulator``,
``KReciprocalReRanking``) stay in their modules.
"""
from .distance import compute_distance
from .feature_evaluation import evaluate_features
from .ranking import evaluate_rank, evaluate_rows
from .re_ranking import re_ranking
from .reference import evaluate_rank_reference
from .retrieval import distance_rows, rank_gallery

__all__ = [
    'compute_distance', 'evaluate_rank', 'evaluate_rows', 'evaluate_features',
    'evaluate_rank_reference', 're_ranking', 'distance_rows', 'rank_gallery'
]
