# Copyright (c) mmieee contributors.
"""Top-k search of a gallery: the exact path (default) and faiss.

Both backends rank with :meth:`mmieee.evaluation.RankingProtocol.rank`, the
metric's own ranking (distance, normalisation, optional k-reciprocal
re-ranking, the exclusion of same-id same-camera / scene items, ties by
gallery index), so rank 1 here is rank 1 in ``ReIDMetric``:
``set_gallery(FeatureSet)`` once, then ``search(queries: FeatureSet,
topk)`` returns ``dict(indices (Q, k) int64 -1-padded, distances (Q, k)
float64 NaN-padded, num_excluded (Q,))``.

* :class:`ExactSearch` ranks the whole gallery (queries in chunks of about
  2**24 pairs).
* :class:`FaissSearch` asks a flat (exact, brute-force) faiss index for the
  ``topk`` plus the largest number of items any query excludes, which is
  faster on large galleries (multi-threaded, no Python loop per chunk), and
  lets the protocol rank those candidates: their distances are recomputed,
  so an item whose distance nearly ties another's is ordered as the exact
  path orders it unless faiss' float32 arithmetic left it out of the
  candidates. It cannot re-rank. Install it with
  ``pip install -e ".[deploy]"`` (``faiss-cpu``).

Memory of the exact path for G gallery items of D dims and Q queries, in
float32, besides the features (``G * D * 4`` bytes, shared, not copied):
while the gallery norms are computed, a transient block of at most 2**24
squared elements; then, while ranking, the norms ``G * 4``, one block of
``min(Q, 512) * G * 4`` distance rows (512 query rows per matrix product) and
about 16 bytes per (query, gallery) pair of a chunk of
``c = max(1, min(Q, 2**24 // G))`` queries (a masked copy, boolean masks,
``torch.topk``'s work space). faiss adds its own copy of the features,
``G * D * 4``. ``tools/analysis_tools/benchmark_retrieval.py`` measures
these; docs/inference.md works them out for 1M x 2304.
"""
from typing import Dict, Optional

import numpy as np

from mmieee.evaluation import FeatureSet, RankingProtocol

SEARCH_BACKENDS = ('exact', 'faiss')


class ExactSearch:
    """The metric's own ranking over the whole gallery.

    Args:
        protocol (RankingProtocol): The ranking settings (e.g.
            ``RankingProtocol.from_config(cfg)``).
    """

    name = 'exact'

    def __init__(self, protocol: RankingProtocol) -> None:
        self.protocol = protocol
        self.gallery: Optional[FeatureSet] = None

    def set_gallery(self, gallery: FeatureSet) -> None:
        """Keep the gallery (no copy)."""
        self.gallery = gallery

    def search(self, queries: FeatureSet, topk: int) -> Dict[str, np.ndarray]:
        """The ``topk`` nearest gallery items of each query; the protocol's
        exclusion when the queries and the gallery have the ids."""
        return self.protocol.rank(queries, self.gallery, topk=topk)


class FaissSearch(ExactSearch):
    """A flat faiss index proposes, the protocol ranks (module docstring).

    Args:
        protocol (RankingProtocol): The ranking settings; ``rerank`` must be
            off.

    Raises:
        ImportError: faiss is not installed (the message says how).
        ValueError: ``protocol.rerank``.
    """

    name = 'faiss'

    def __init__(self, protocol: RankingProtocol) -> None:
        try:
            import faiss
        except ImportError as err:
            raise ImportError(
                "backend='faiss' needs faiss-cpu: pip install -e "
                '".[deploy]" (or pip install faiss-cpu)') from err
        if protocol.rerank:
            raise ValueError(
                "backend='faiss' cannot re-rank (test_evaluator.rerank=True "
                "in the config); use backend='exact'")
        super().__init__(protocol)
        self.faiss = faiss
        self.index = None

    def _prepare(self, feats: np.ndarray) -> np.ndarray:
        feats = np.ascontiguousarray(feats, dtype=np.float32)
        if self.protocol.normalize or self.protocol.metric == 'cosine':
            feats = feats.copy()
            self.faiss.normalize_L2(feats)
        return feats

    def set_gallery(self, gallery: FeatureSet) -> None:
        """Build the flat index of the gallery features.

        Raises:
            ValueError: Non-finite gallery features (as the exact path).
        """
        self.protocol.check_finite(gallery, 'gallery')
        super().set_gallery(gallery)
        dim = gallery.feats.shape[1]
        self.index = (self.faiss.IndexFlatIP(dim)
                      if self.protocol.metric == 'cosine' else
                      self.faiss.IndexFlatL2(dim))
        self.index.add(self._prepare(gallery.feats))

    def search(self, queries: FeatureSet, topk: int) -> Dict[str, np.ndarray]:
        """Candidates from faiss, ranked by the protocol."""
        topk = int(topk)
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        self.protocol.check_finite(queries, 'query')
        excluded = self.protocol.excluded_counts(queries, self.gallery)
        k = min(self.index.ntotal, topk + int(excluded.max(initial=0)))
        _, candidates = self.index.search(self._prepare(queries.feats), k)
        return self.protocol.rank(queries, self.gallery, topk=topk,
                                  candidates=candidates)


def build_search(protocol: RankingProtocol,
                 backend: str = 'exact') -> ExactSearch:
    """The search backend ``'exact'`` (default) or ``'faiss'``.

    Args:
        protocol (RankingProtocol): The ranking settings.
        backend (str): One of :data:`SEARCH_BACKENDS`.
    """
    if backend == 'exact':
        return ExactSearch(protocol)
    if backend == 'faiss':
        return FaissSearch(protocol)
    raise ValueError(f'backend must be one of {SEARCH_BACKENDS}, got '
                     f'{backend!r}')
