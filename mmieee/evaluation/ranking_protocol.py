# Copyright (c) mmieee contributors.
"""The ranking every part of mmieee shows: one protocol, one function.

:class:`RankingProtocol` holds the settings of ``ReIDMetric`` that decide a
ranking -- the distance, normalisation, k-reciprocal re-ranking and the
exclusion rule -- and :meth:`RankingProtocol.rank` ranks a gallery for a
set of queries with them. The metric's numbers, the rank lists of
``tools/visualization/vis_rank_list.py`` and ``tools/test.py --show-dir``,
and the inferencer's top-k (both search backends) all come from this one
method, so "rank 1" means the same thing everywhere (the protocol itself is
described in docs/evaluation.md and :mod:`.functional.ranking`):

* distances from :func:`~.functional.distance_rows` (blocked, exact; the
  re-ranked ones when ``rerank``);
* gallery items with the query's pid and the query's exclusion group
  (camera, or scene for MSVR310) removed, when both sides have the ids;
* ties broken by gallery index.

A search backend that is faster than exact distances (faiss) only
*proposes* candidates (``candidates=``): their distances are recomputed
here and the same exclusion and tie-break are applied.
"""
import dataclasses
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.config import Config

from mmieee.registry import METRICS
from mmieee.utils.test_settings import get_reid_metric_cfg

from .feature_set import FeatureSet
from .functional import distance_rows, evaluate_rows, rank_gallery
from .functional.distance import DISTANCE_METRICS

#: ``exclude`` mode -> the FeatureSet id array holding the groups.
EXCLUDE_MODES = {'camera': 'camids', 'scene': 'sceneids', 'none': None}


@dataclasses.dataclass(frozen=True)
class RankingProtocol:
    """How a gallery is ranked for a query (``ReIDMetric``'s settings).

    Args:
        metric (str): ``'euclidean'`` (squared) or ``'cosine'``.
        normalize (bool): L2-normalise features before the distance.
        exclude (str): ``'camera'`` (remove gallery items with the query's
            pid and camid), ``'scene'`` (pid and sceneid; MSVR310) or
            ``'none'``.
        rerank (bool): k-reciprocal re-ranking (Zhong et al., CVPR 2017).
        k1 (int): Re-ranking neighbourhood.
        k2 (int): Re-ranking query expansion.
        lambda_value (float): Re-ranking weight of the original distance.
        chunk_size (int, optional): Queries ranked at once (memory only).
        device (str, optional): Where distances are computed; None: CUDA
            when available.
    """
    metric: str = 'euclidean'
    normalize: bool = False
    exclude: str = 'camera'
    rerank: bool = False
    k1: int = 20
    k2: int = 6
    lambda_value: float = 0.3
    chunk_size: Optional[int] = None
    device: Optional[str] = None

    def __post_init__(self) -> None:
        if self.metric not in DISTANCE_METRICS:
            raise ValueError(f'metric must be one of {DISTANCE_METRICS}, got '
                             f'{self.metric!r}')
        if self.exclude not in EXCLUDE_MODES:
            raise ValueError(f'exclude must be one of '
                             f'{tuple(EXCLUDE_MODES)}, got {self.exclude!r}')

    @classmethod
    def from_config(cls, cfg: Config) -> 'RankingProtocol':
        """The protocol of the config's ``ReIDMetric`` (test evaluator,
        else val evaluator), ``ReIDMetric``'s defaults filled in.

        Raises:
            ConfigError: Not exactly one ``ReIDMetric`` (see
                :func:`mmieee.utils.test_settings.get_reid_metric_cfg`).
        """
        metric_cfg = get_reid_metric_cfg(cfg)
        metric_cfg['type'] = 'ReIDMetric'
        return METRICS.build(metric_cfg).protocol

    @property
    def group_key(self) -> Optional[str]:
        """``'camids'``, ``'sceneids'`` or None (the exclusion groups)."""
        return EXCLUDE_MODES[self.exclude]

    def replace(self, **changes) -> 'RankingProtocol':
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    def _device(self) -> torch.device:
        if self.device is not None:
            return torch.device(self.device)
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')

    def _ids(self, query: FeatureSet, gallery: FeatureSet,
             require: bool) -> tuple:
        """``(q_pids, g_pids, q_groups, g_groups)`` for the protocol; all
        None when a side lacks them (nothing can be excluded)."""
        key = self.group_key
        needed = ['pids'] + ([key] if key else [])
        if require:
            for fs in (query, gallery):
                fs.require(*needed)
        if any(getattr(fs, k) is None for fs in (query, gallery)
               for k in needed):
            return None, None, None, None
        if key is None:
            return query.pids, gallery.pids, None, None
        return query.pids, gallery.pids, getattr(query, key), getattr(
            gallery, key)

    def excluded_counts(self, query: FeatureSet,
                        gallery: FeatureSet) -> np.ndarray:
        """(Q,) how many gallery items the protocol removes for each query
        (zeros when a side lacks the ids)."""
        q_pids, g_pids, q_groups, g_groups = self._ids(query, gallery, False)
        if q_groups is None:
            return np.zeros(len(query), dtype=np.int64)
        pairs, counts = np.unique(
            np.stack([g_pids, g_groups], 1), axis=0, return_counts=True)
        lookup = {tuple(p): int(c) for p, c in zip(pairs.tolist(), counts)}
        return np.array([lookup.get((int(p), int(c)), 0)
                         for p, c in zip(q_pids, q_groups)], dtype=np.int64)

    @staticmethod
    def check_finite(fs: FeatureSet, role: str) -> None:
        """Raise ``ValueError`` naming the first non-finite row of ``fs``."""
        bad = ~np.isfinite(fs.feats).all(axis=1)
        if bad.any():
            raise ValueError(
                f'{int(bad.sum())} of {len(fs)} {role} features of '
                f'{fs.source or "the feature set"} are NaN or infinite (the '
                f'first is {role} row {int(np.flatnonzero(bad)[0])}): the '
                "model's weights or inputs are not finite, e.g. a checkpoint "
                'saved after the training loss diverged')

    def rank(self,
             query: FeatureSet,
             gallery: FeatureSet,
             topk: int = 0,
             evaluate: bool = False,
             per_query: bool = False,
             max_rank: int = 50,
             candidates: Optional[np.ndarray] = None) -> Dict[str, object]:
        """Rank ``gallery`` for every query of ``query``.

        Args:
            query (FeatureSet): Q queries (ids used for the exclusion and
                the statistics).
            gallery (FeatureSet): G gallery items.
            topk (int): Gallery items kept per query (0: none).
            evaluate (bool): Also compute CMC / mAP / mINP (needs the pids
                and exclusion groups of both sides).
            per_query (bool): With ``evaluate``, also each query's ``ap``,
                ``inp``, ``first_rank`` and ``valid``.
            max_rank (int): CMC length. Defaults to 50.
            candidates (np.ndarray, optional): (Q, C) gallery indices a
                search backend proposes per query (-1: none); only they are
                ranked (not with ``evaluate`` or ``rerank``).

        Returns:
            dict: With ``evaluate``: ``cmc`` (max_rank,), ``mAP``, ``mINP``
            (fractions), ``num_valid_queries`` (and the per-query arrays).
            With ``topk``: ``indices`` (Q, topk) gallery rows, nearest
            first, -1 padding; ``distances`` (Q, topk), NaN padding;
            ``num_excluded`` (Q,) gallery items removed by the protocol.

        Raises:
            ValueError: Non-finite features, re-ranking of a set too small
                for ``k1``, or ``candidates`` with ``evaluate`` / ``rerank``.
            KeyError: ``evaluate`` without the ids it needs.
        """
        self.check_finite(query, 'query')
        self.check_finite(gallery, 'gallery')
        q_pids, g_pids, q_groups, g_groups = self._ids(
            query, gallery, require=evaluate)
        out: Dict[str, object] = {}
        if candidates is not None:
            if evaluate or self.rerank:
                raise ValueError('candidates rank a proposed subset of the '
                                 'gallery: no statistics, no re-ranking')
            out.update(
                self._rank_candidates(query.feats, gallery.feats,
                                      np.asarray(candidates), topk, q_pids,
                                      g_pids, q_groups, g_groups))
            out['num_excluded'] = self.excluded_counts(query, gallery)
            return out
        device = self._device()
        with torch.no_grad():
            row_fn, num_q, rows_device = distance_rows(
                torch.from_numpy(query.feats).to(device),
                torch.from_numpy(gallery.feats).to(device), self.metric,
                self.normalize, self.rerank, self.k1, self.k2,
                self.lambda_value, self.chunk_size)
            if evaluate:
                out.update(
                    evaluate_rows(row_fn, num_q, q_pids, g_pids, q_groups,
                                  g_groups, max_rank, self.chunk_size,
                                  rows_device, per_query=per_query))
            if topk:
                out.update(
                    rank_gallery(row_fn, num_q, topk, q_pids, g_pids,
                                 q_groups, g_groups, self.chunk_size,
                                 rows_device))
        return out

    def _rank_candidates(self, q: np.ndarray, g: np.ndarray,
                         candidates: np.ndarray, topk: int, q_pids, g_pids,
                         q_groups, g_groups) -> Dict[str, np.ndarray]:
        """Exact distances of the proposed candidates, then the protocol's
        exclusion and tie-break (the candidates are re-ordered by index)."""
        num_q = len(q)
        if candidates.shape[0] != num_q:
            raise ValueError(f'candidates has {candidates.shape[0]} rows for '
                             f'{num_q} queries')
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        exclude = q_groups is not None
        qt = torch.from_numpy(q).double()
        gt = torch.from_numpy(g).double()
        if self.normalize or self.metric == 'cosine':
            qt = torch.nn.functional.normalize(qt, dim=1)
            gt = torch.nn.functional.normalize(gt, dim=1)
        indices = np.full((num_q, topk), -1, dtype=np.int64)
        distances = np.full((num_q, topk), np.nan, dtype=np.float64)
        for i in range(num_q):
            cols = np.unique(candidates[i][candidates[i] >= 0])  # sorted
            if exclude:
                cols = cols[~((g_pids[cols] == q_pids[i])
                              & (g_groups[cols] == q_groups[i]))]
            if not len(cols):
                continue
            cand = gt[torch.from_numpy(cols)]
            dots = cand @ qt[i]
            if self.metric == 'cosine':
                dist = 1 - dots
            else:
                dist = (qt[i] * qt[i]).sum() + (cand * cand).sum(1) - 2 * dots
            order = torch.argsort(dist, stable=True)[:topk].numpy()
            indices[i, :len(order)] = cols[order]
            distances[i, :len(order)] = dist.numpy()[order]
        return dict(indices=indices, distances=distances)
