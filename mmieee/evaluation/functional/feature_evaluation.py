# Copyright (c) mmieee contributors.
"""Chunked, memory-bounded Re-ID evaluation from features (20k x 200k in
bounded memory, on the GPU when the features are there).

Distances are computed for one chunk of queries at a time on the features'
device (:class:`~.distance.PairwiseDistance`) and ranked at once
(:class:`~.ranking.RankAccumulator`); the full Q x G matrix never exists.
Peak memory beyond the features is about
``(chunk_size + block_size) * G * 4`` bytes of distances plus
``chunk_size * G * ~30`` bytes of ranking temporaries. Because the distance
rows are computed in blocks aligned to the query index, the result is
bit-identical to ``evaluate_rank(compute_distance(q, g, ...), ...)`` for
every ``chunk_size``.
"""
from typing import Dict, Optional

import torch

from .distance import ArrayLike, PairwiseDistance
from .ranking import evaluate_rows


def evaluate_features(q_feats: ArrayLike,
                      g_feats: ArrayLike,
                      q_pids: ArrayLike,
                      g_pids: ArrayLike,
                      q_camids: Optional[ArrayLike],
                      g_camids: Optional[ArrayLike],
                      metric: str = 'euclidean',
                      normalize: bool = False,
                      max_rank: int = 50,
                      chunk_size: Optional[int] = None,
                      block_size: int = 512) -> Dict:
    """CMC, mAP and mINP from query and gallery features, in query chunks.

    Args:
        q_feats (Tensor | np.ndarray): Query features, shape (Q, D). The
            computation runs on their device (GPU when they are there).
        g_feats (Tensor | np.ndarray): Gallery features, shape (G, D).
        q_pids (Tensor | np.ndarray): Query ids, shape (Q,).
        g_pids (Tensor | np.ndarray): Gallery ids, shape (G,).
        q_camids (Tensor | np.ndarray | None): Query exclusion groups
            (camera ids; scene ids for MSVR310; None for no exclusion),
            shape (Q,).
        g_camids (Tensor | np.ndarray | None): Gallery exclusion groups,
            shape (G,).
        metric (str): ``'euclidean'`` (squared) or ``'cosine'``.
        normalize (bool): L2-normalise features first. Defaults to False.
        max_rank (int): CMC length. Defaults to 50.
        chunk_size (int, optional): Queries ranked at once; bounds memory,
            does not change the result. Default: about 2**24 / G queries.
        block_size (int): Query rows per matrix product (part of the
            distances' numerical definition, see ``distance.py``).

    Returns:
        dict: ``cmc`` (np.ndarray, (max_rank,)), ``mAP``, ``mINP`` (floats in
        [0, 1]), ``num_valid_queries`` (int) -- as :func:`evaluate_rank`.
    """
    pdist = PairwiseDistance(q_feats, g_feats, metric, normalize, block_size)
    num_q, _ = pdist.shape
    with torch.no_grad():
        return evaluate_rows(pdist.rows, num_q, q_pids, g_pids, q_camids,
                             g_camids, max_rank, chunk_size, pdist.device)
