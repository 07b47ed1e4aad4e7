# Copyright (c) mmieee contributors.
"""Top-k search of a gallery: the exact path (default) and faiss.

Both backends have one interface: ``set_gallery(feats, pids, groups)`` once,
then ``search(q_feats, topk, q_pids, q_groups)`` → ``dict(indices (Q, k)
int64 -1-padded, distances (Q, k) float64 NaN-padded, num_excluded (Q,))``,
the output of :func:`mmieee.evaluation.functional.rank_gallery`.

* :class:`ExactSearch` *is* the metric's code: :func:`distance_rows` (the
  same distance, normalisation and optional k-reciprocal re-ranking) and
  :func:`rank_gallery` (the protocol's exclusion of same-id same-camera /
  scene items, ties by gallery index, queries in chunks of about 2**24
  pairs). So rank 1 here is rank 1 in ``ReIDMetric``.
* :class:`FaissSearch` uses a flat (exact, brute-force) faiss index, which is
  faster on large galleries (multi-threaded, no Python loop per chunk). Its
  float32 arithmetic differs from torch's in the last bits, so an item whose
  distance ties (or nearly ties) another's may swap places with it; the
  ranking is otherwise the same. It cannot re-rank. Install it with
  ``pip install -e ".[deploy]"`` (``faiss-cpu``).

Memory of the exact path for G gallery items of D dims and Q queries, in
float32, besides the features (``G * D * 4`` bytes, shared, not copied):
while the gallery norms are computed, a transient ``G * D * 4`` (the
``(g * g).sum(1)`` of :class:`~mmieee.evaluation.functional.PairwiseDistance`);
then, while ranking, the norms ``G * 4``, one block of
``min(Q, 512) * G * 4`` distance rows (512 query rows per matrix product) and
about 16 bytes per (query, gallery) pair of a chunk of
``c = max(1, min(Q, 2**24 // G))`` queries (a masked copy, boolean masks,
``torch.topk``'s work space). faiss adds its own copy of the features,
``G * D * 4``. ``tools/analysis_tools/benchmark_retrieval.py`` measures
these; docs/inference.md works them out for 1M x 2304.
"""
from typing import Dict, Optional

import numpy as np
import torch

from mmieee.evaluation.functional import distance_rows, rank_gallery

SEARCH_BACKENDS = ('exact', 'faiss')


class ExactSearch:
    """The metric's own ranking (module docstring).

    Args:
        metric (str): ``'euclidean'`` (squared) or ``'cosine'``.
        normalize (bool): L2-normalise features first.
        rerank (bool): k-reciprocal re-ranking with ``k1``, ``k2``,
            ``lambda_value`` (over the queries of one call and the gallery,
            as the metric does over its query set).
        k1 (int): Re-ranking k1.
        k2 (int): Re-ranking k2.
        lambda_value (float): Re-ranking weight of the original distance.
    """

    name = 'exact'

    def __init__(self,
                 metric: str = 'euclidean',
                 normalize: bool = False,
                 rerank: bool = False,
                 k1: int = 20,
                 k2: int = 6,
                 lambda_value: float = 0.3) -> None:
        self.options = dict(
            metric=metric, normalize=normalize, rerank=rerank, k1=k1, k2=k2,
            lambda_value=lambda_value)
        self.g_feats = None

    def set_gallery(self, feats: np.ndarray, pids: Optional[np.ndarray],
                    groups: Optional[np.ndarray]) -> None:
        """Keep the (G, D) gallery features and ids (no copy)."""
        self.g_feats, self.g_pids, self.g_groups = feats, pids, groups

    def search(self,
               q_feats: np.ndarray,
               topk: int,
               q_pids: Optional[np.ndarray] = None,
               q_groups: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """The ``topk`` nearest gallery items of each of the (Q, D) queries;
        exclusion when query and gallery ids and groups are all given."""
        exclude = q_pids is not None and q_groups is not None \
            and self.g_pids is not None and self.g_groups is not None
        row_fn, num_query, device = distance_rows(
            torch.from_numpy(np.ascontiguousarray(q_feats)),
            torch.from_numpy(self.g_feats), **self.options)
        return rank_gallery(
            row_fn, num_query, topk,
            q_pids if exclude else None, self.g_pids if exclude else None,
            q_groups if exclude else None, self.g_groups if exclude else None,
            device=device)


class FaissSearch(ExactSearch):
    """Flat faiss index behind the same interface (module docstring).

    Args:
        metric (str): ``'euclidean'`` (squared L2, ``IndexFlatL2``) or
            ``'cosine'`` (``1 -`` inner product of normalised features,
            ``IndexFlatIP``).
        normalize (bool): L2-normalise features first.
        rerank (bool): Must be False (faiss cannot re-rank).
        **kwargs: Re-ranking options, ignored when ``rerank`` is False.

    Raises:
        ImportError: faiss is not installed (the message says how).
        ValueError: ``rerank=True``.
    """

    name = 'faiss'

    def __init__(self,
                 metric: str = 'euclidean',
                 normalize: bool = False,
                 rerank: bool = False,
                 **kwargs) -> None:
        try:
            import faiss
        except ImportError as err:
            raise ImportError(
                "backend='faiss' needs faiss-cpu: pip install -e "
                '".[deploy]" (or pip install faiss-cpu)') from err
        if rerank:
            raise ValueError(
                "backend='faiss' cannot re-rank (test_evaluator.rerank=True "
                "in the config); use backend='exact'")
        if metric not in ('euclidean', 'cosine'):
            raise ValueError(f"metric must be 'euclidean' or 'cosine', got "
                             f'{metric!r}')
        super().__init__(metric=metric, normalize=normalize)
        self.faiss = faiss
        self.index = None

    def _prepare(self, feats: np.ndarray) -> np.ndarray:
        feats = np.ascontiguousarray(feats, dtype=np.float32)
        if self.options['normalize'] or self.options['metric'] == 'cosine':
            feats = feats.copy()
            self.faiss.normalize_L2(feats)
        return feats

    def set_gallery(self, feats: np.ndarray, pids: Optional[np.ndarray],
                    groups: Optional[np.ndarray]) -> None:
        """Build the flat index of the (G, D) gallery features."""
        super().set_gallery(feats, pids, groups)
        dim = feats.shape[1]
        self.index = (self.faiss.IndexFlatIP(dim)
                      if self.options['metric'] == 'cosine' else
                      self.faiss.IndexFlatL2(dim))
        self.index.add(self._prepare(feats))

    def search(self,
               q_feats: np.ndarray,
               topk: int,
               q_pids: Optional[np.ndarray] = None,
               q_groups: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """As :meth:`ExactSearch.search`; asks faiss for ``topk`` plus the
        largest number of items any query excludes, then drops them."""
        topk = int(topk)
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        num_query, num_gallery = len(q_feats), self.index.ntotal
        exclude = q_pids is not None and q_groups is not None \
            and self.g_pids is not None and self.g_groups is not None
        removed = np.zeros(num_query, dtype=np.int64)
        if exclude:
            keys = {}
            for pid, group in zip(self.g_pids.tolist(),
                                  self.g_groups.tolist()):
                keys[(pid, group)] = keys.get((pid, group), 0) + 1
            removed = np.array([
                keys.get((p, g), 0)
                for p, g in zip(np.asarray(q_pids).tolist(),
                                np.asarray(q_groups).tolist())
            ], dtype=np.int64)
        k = min(num_gallery, topk + int(removed.max(initial=0)))
        sims, idx = self.index.search(self._prepare(q_feats), k)
        dist = 1.0 - sims if self.options['metric'] == 'cosine' else sims
        indices = np.full((num_query, topk), -1, dtype=np.int64)
        distances = np.full((num_query, topk), np.nan, dtype=np.float64)
        for q in range(num_query):
            cols, vals = idx[q], dist[q].astype(np.float64)
            keep = cols >= 0
            if exclude:
                keep &= ~((self.g_pids[np.maximum(cols, 0)] == q_pids[q])
                          & (self.g_groups[np.maximum(cols, 0)]
                             == q_groups[q]))
            cols, vals = cols[keep], vals[keep]
            order = np.lexsort((cols, vals))[:topk]  # (distance, index)
            indices[q, :len(order)] = cols[order]
            distances[q, :len(order)] = vals[order]
        return dict(
            indices=indices, distances=distances, num_excluded=removed)


def build_search(backend: str = 'exact', **options) -> ExactSearch:
    """The search backend ``'exact'`` (default) or ``'faiss'``.

    Args:
        backend (str): One of :data:`SEARCH_BACKENDS`.
        **options: Distance options (see :class:`ExactSearch`).
    """
    if backend == 'exact':
        return ExactSearch(**options)
    if backend == 'faiss':
        return FaissSearch(**options)
    raise ValueError(f'backend must be one of {SEARCH_BACKENDS}, got '
                     f'{backend!r}')
