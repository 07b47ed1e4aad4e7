# Copyright (c) mmieee contributors.
"""The ranked gallery of each query: what a rank list shows and what an
inference call returns, computed with the metric's own distance rows and
exclusion rule so that "rank 1" means the same thing everywhere.

:func:`distance_rows` is the one place that turns features (plus the
re-ranking option) into query rows of distances; :class:`~..metrics.ReIDMetric`
evaluates those rows and :func:`rank_gallery` keeps the ``topk`` nearest
gallery items of each query from them, after removing the items the protocol
removes (same id and same camera / scene). Ties are broken by gallery index,
as in :mod:`.ranking`.

Memory: one chunk of ``chunk_size x G`` distances at a time (default about
2**24 pairs, 64 MB in float32) plus ``Q x topk`` results; the full Q x G
matrix never exists. Only the distances at or below each row's ``topk``-th
smallest value are sorted, so a chunk costs one ``torch.topk`` and a sort of
about ``topk`` items per query.
"""
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from .distance import ArrayLike, PairwiseDistance
from .ranking import _as_long, default_chunk_size
from .re_ranking import KReciprocalReRanking

RowFn = Callable[[int, int], Tensor]


def distance_rows(q_feats: ArrayLike,
                  g_feats: ArrayLike,
                  metric: str = 'euclidean',
                  normalize: bool = False,
                  rerank: bool = False,
                  k1: int = 20,
                  k2: int = 6,
                  lambda_value: float = 0.3,
                  chunk_size: Optional[int] = None
                  ) -> Tuple[RowFn, int, torch.device]:
    """Query rows of the (optionally re-ranked) query-gallery distances.

    Args:
        q_feats (Tensor | np.ndarray): Query features, shape (Q, D).
        g_feats (Tensor | np.ndarray): Gallery features, shape (G, D).
        metric (str): ``'euclidean'`` (squared) or ``'cosine'``.
        normalize (bool): L2-normalise the features first.
        rerank (bool): k-reciprocal re-ranking (Zhong et al. 2017) with
            ``k1``, ``k2``, ``lambda_value``.
        k1 (int): Re-ranking neighbourhood. Defaults to 20.
        k2 (int): Re-ranking query expansion. Defaults to 6.
        lambda_value (float): Weight of the original distance.
            Defaults to 0.3.
        chunk_size (int, optional): Rows the re-ranking computes at once.

    Returns:
        tuple: ``row_fn(start, end)`` returning the (end - start, G)
        distances of those queries, the number of queries Q and the device
        the rows live on.

    Raises:
        ValueError: Re-ranking asked for a set too small for ``k1``
            (the message names ``rerank``, ``k1`` and the number of
            samples).
    """
    if rerank:
        num = len(q_feats) + len(g_feats)
        if int(k1) + 1 > num:
            raise ValueError(
                f'rerank=True needs k1 + 1 <= the number of query + gallery '
                f'samples, but k1={k1} and there are {num} samples '
                f'({len(q_feats)} queries, {len(g_feats)} gallery items): '
                f'lower k1 (e.g. test_evaluator.k1={max(1, num - 1)}) or '
                'turn re-ranking off')
        reranker = KReciprocalReRanking(
            q_feats, g_feats, metric=metric, normalize=normalize, k1=k1,
            k2=k2, lambda_value=lambda_value, chunk_size=chunk_size)
        return reranker.rows, reranker.num_query, torch.device('cpu')
    pdist = PairwiseDistance(q_feats, g_feats, metric, normalize)
    return pdist.rows, pdist.shape[0], pdist.device


def rank_gallery(row_fn: RowFn,
                 num_query: int,
                 topk: int,
                 q_pids: Optional[ArrayLike] = None,
                 g_pids: Optional[ArrayLike] = None,
                 q_groups: Optional[ArrayLike] = None,
                 g_groups: Optional[ArrayLike] = None,
                 chunk_size: Optional[int] = None,
                 device: Optional[torch.device] = None
                 ) -> Dict[str, np.ndarray]:
    """The ``topk`` nearest gallery items of every query, protocol applied.

    Gallery items with the query's pid and the query's exclusion group
    (camera, or scene for MSVR310) are removed first, exactly as
    :func:`~.ranking.evaluate_rank` removes them; without ids (or without
    groups) nothing is removed.

    Args:
        row_fn (Callable[[int, int], Tensor]): ``row_fn(s, e)`` gives the
            distances of queries ``s:e`` to the gallery, (e - s, G); e.g.
            from :func:`distance_rows`.
        num_query (int): Q.
        topk (int): Items kept per query (fewer where the filtered gallery
            is smaller; the rest is padding).
        q_pids, g_pids (optional): Ids, (Q,) and (G,).
        q_groups, g_groups (optional): Exclusion groups, (Q,) and (G,).
        chunk_size (int, optional): Queries per chunk (memory only).
        device (torch.device, optional): Device of the rows.

    Returns:
        dict: ``indices`` (Q, topk) int64 gallery indices, nearest first,
        ``-1`` as padding; ``distances`` (Q, topk) float64, NaN as padding;
        ``num_excluded`` (Q,) int64, gallery items removed per query.
    """
    topk = int(topk)
    if topk < 1:
        raise ValueError(f'topk must be >= 1, got {topk}')
    if (q_groups is None) != (g_groups is None):
        raise ValueError('give exclusion groups for both query and gallery, '
                         'or for neither')
    device = torch.device('cpu') if device is None else torch.device(device)
    exclude = q_pids is not None and g_pids is not None \
        and q_groups is not None
    if exclude:
        q_pids_t = _as_long(q_pids, 'q_pids', num_query, device)
        g_pids_t = _as_long(g_pids, 'g_pids', None, device)
        q_groups_t = _as_long(q_groups, 'q_groups', num_query, device)
        g_groups_t = _as_long(g_groups, 'g_groups', g_pids_t.numel(), device)
    indices = np.full((num_query, topk), -1, dtype=np.int64)
    distances = np.full((num_query, topk), np.nan, dtype=np.float64)
    num_excluded = np.zeros(num_query, dtype=np.int64)
    if num_query > 0 and chunk_size is None:
        # One row tells the gallery size (PairwiseDistance caches its block).
        chunk_size = default_chunk_size(row_fn(0, 1).shape[1])
    chunk_size = int(chunk_size or 1)
    for start in range(0, num_query, chunk_size):
        end = min(start + chunk_size, num_query)
        dist = row_fn(start, end).to(device)
        c, g = dist.shape
        if not bool(torch.isfinite(dist).all()):
            raise ValueError(
                'distances must be finite; got NaN or inf for queries '
                f'{start}..{end - 1} (check the features)')
        removed = torch.zeros((c, g), dtype=torch.bool, device=device)
        if exclude:
            if g_pids_t.numel() != g:
                raise ValueError(f'g_pids has {g_pids_t.numel()} entries, '
                                 f'the distance rows have {g} columns')
            removed = (g_pids_t[None] == q_pids_t[start:end, None]) & (
                g_groups_t[None] == q_groups_t[start:end, None])
            num_excluded[start:end] = removed.sum(dim=1).cpu().numpy()
        kept = _stable_topk(dist, removed, topk)
        for row, (cols, vals) in enumerate(kept):
            indices[start + row, :len(cols)] = cols
            distances[start + row, :len(cols)] = vals
    return dict(
        indices=indices, distances=distances, num_excluded=num_excluded)


def _stable_topk(dist: Tensor, removed: Tensor, k: int) -> list:
    """Per row: the (indices, distances) of the ``k`` smallest non-removed
    entries in (distance, index) order."""
    c, g = dist.shape
    inf = torch.tensor(float('inf'), dtype=dist.dtype, device=dist.device)
    masked = torch.where(removed, inf, dist)
    k_eff = min(k, g)
    # The k-th smallest value bounds the candidates; entries equal to it
    # (ties) are all candidates, and the sort below orders them by index.
    thr = torch.topk(masked, k_eff, dim=1, largest=False).values[:, -1:]
    cand = (masked <= thr) & ~removed
    rows, cols = cand.nonzero(as_tuple=True)  # cols ascend within a row
    vals = masked[rows, cols]
    order = torch.argsort(vals, stable=True)
    order = order[torch.argsort(rows[order], stable=True)]
    rows, cols, vals = rows[order].cpu(), cols[order].cpu(), vals[order].cpu()
    counts = torch.bincount(rows, minlength=c).tolist()
    out, pos = [], 0
    for n in counts:
        keep = min(n, k)
        out.append((cols[pos:pos + keep].numpy(),
                    vals[pos:pos + keep].double().numpy()))
        pos += n
    return out
