# Copyright (c) mmieee contributors.
"""Re-ID ranking metrics: CMC, mAP and mINP, fast (torchreid
``eval_market1501`` / fast-reid ``evaluate_rank`` semantics; the readable
definition is :mod:`.reference`, docs/evaluation.md explains it).

Protocol, per query:

1. Rank the gallery by distance, ascending. **Ties are broken by gallery
   index** (a stable sort): of two gallery items at the same distance the
   one that comes first in the gallery is ranked first. (torchreid and
   fast-reid call ``np.argsort`` with its default, unstable quicksort, so
   their order of exact ties is unspecified; this is the deterministic
   choice.)
2. Remove the gallery items with the same pid **and** the same exclusion
   group as the query. The exclusion group is the camera id in the standard
   protocol; pass scene ids instead for MSVR310 (same id and same scene are
   removed), or ``None`` to remove nothing.
3. A query with no positive (same pid) left is skipped and counted out of
   ``num_valid_queries``.
4. With ``r_1 < ... < r_n`` the 1-based ranks of the ``n`` positives in the
   filtered ranking: CMC@k = mean over valid queries of ``[r_1 <= k]``;
   AP = ``(1/n) * sum_j j / r_j`` (non-interpolated, over the full filtered
   ranking); INP = ``n / r_n``.

Implementation (why not a sort): only the ranks of the positives are needed.
Removed items always share the query's pid, so the negatives are exactly the
gallery items with another pid; the rank of the ``j``-th positive (in
(distance, index) order) is ``j`` plus the number of negatives that come
before it, and only negatives at or before the *last* positive matter. For a
chunk of queries those negatives are selected with one comparison; when they
are few (the usual case with trained features) each is compared with the
query's positives directly, otherwise one batched ``searchsorted`` of every
distance into the sorted positive distances is used (O(G log P) instead of
an O(G log G) sort). A ``bincount`` + ``cumsum`` then gives every positive's
rank. Exact ties with a positive are resolved by gallery index. Temporaries:
about 30 bytes per (query, gallery) pair of the chunk.

Exactness: every per-query quantity is computed row by row with ops whose
result does not depend on the other rows of the chunk (AP sums its terms in
a fixed order with an explicit loop over positives), and the averages over
queries use ``math.fsum`` (exactly rounded, order independent). So any
chunking of the same distances gives bit-identical results.
"""
import math
from typing import Callable, Dict, Optional, Union

import numpy as np
import torch
from torch import Tensor

ArrayLike = Union[np.ndarray, Tensor]

# Target number of (query, gallery) pairs ranked at once when no chunk size
# is given: 2**24 pairs take about 0.5 GB of temporaries.
DEFAULT_PAIRS_PER_CHUNK = 2**24


def _as_long(x: Optional[ArrayLike], name: str, length: Optional[int],
             device: torch.device) -> Optional[Tensor]:
    """Convert an id array to a 1-D int64 tensor on ``device``."""
    if x is None:
        return None
    if isinstance(x, Tensor):
        t = x.detach()
    else:
        arr = np.asarray(x)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer)
                                       or np.issubdtype(arr.dtype, np.bool_)):
            raise TypeError(f'{name} must hold integers, got dtype '
                            f'{arr.dtype}')
        t = torch.from_numpy(arr.astype(np.int64, copy=False))
    if t.is_floating_point() or t.is_complex():
        raise TypeError(f'{name} must hold integers, got dtype {t.dtype}')
    t = t.reshape(-1) if t.dim() == 0 else t
    if t.dim() != 1:
        raise ValueError(f'{name} must be 1-D, got shape {tuple(t.shape)}')
    if length is not None and t.numel() != length:
        raise ValueError(f'{name} has {t.numel()} entries, expected {length}')
    return t.to(device=device, dtype=torch.long)


def default_chunk_size(num_gallery: int) -> int:
    """Queries per chunk so that a chunk holds about 2**24 pairs."""
    return max(1, DEFAULT_PAIRS_PER_CHUNK // max(int(num_gallery), 1))


class RankAccumulator:
    """Ranks query chunks against a fixed gallery and accumulates the
    per-query CMC/AP/INP statistics (protocol in the module docstring).

    Args:
        g_pids (Tensor | np.ndarray): Gallery ids, shape (G,).
        g_groups (Tensor | np.ndarray, optional): Gallery exclusion groups
            (camera or scene ids), shape (G,); None disables exclusion.
        num_query (int): Total number of queries Q.
        device (torch.device): Where the chunks' distances live.
    """

    def __init__(self, g_pids: ArrayLike, g_groups: Optional[ArrayLike],
                 num_query: int, device: torch.device) -> None:
        self.device = torch.device(device)
        self.g_pids = _as_long(g_pids, 'g_pids', None, self.device)
        self.num_gallery = self.g_pids.numel()
        self.g_groups = _as_long(g_groups, 'g_camids', self.num_gallery,
                                 self.device)
        # Gallery grouped by pid; the stable sort keeps gallery-index order
        # inside a pid, which the positive-sorting step relies on.
        self.order = torch.argsort(self.g_pids, stable=True)
        self.uniq_pids, counts = torch.unique_consecutive(
            self.g_pids[self.order], return_counts=True)
        self.pid_counts = counts
        self.pid_starts = torch.cumsum(counts, 0) - counts
        self.num_query = int(num_query)
        self.first_rank = np.zeros(self.num_query, dtype=np.int64)
        self.ap = np.zeros(self.num_query, dtype=np.float64)
        self.inp = np.zeros(self.num_query, dtype=np.float64)
        self.valid = np.zeros(self.num_query, dtype=bool)
        self._seen = np.zeros(self.num_query, dtype=bool)

    def _positives(self, q_pids: Tensor, q_groups: Optional[Tensor]):
        """Gallery indices of each query's positives, padded.

        Returns:
            tuple: ``idx`` (c, P) int64 gallery indices (ascending per row),
            ``valid`` (c, P) bool (real and not excluded).
        """
        c = q_pids.numel()
        if self.uniq_pids.numel() == 0:
            empty = torch.zeros((c, 0), dtype=torch.long, device=self.device)
            return empty, empty.bool()
        pos = torch.searchsorted(self.uniq_pids, q_pids)
        pos_c = pos.clamp(max=self.uniq_pids.numel() - 1)
        found = self.uniq_pids[pos_c] == q_pids
        cnt = torch.where(found, self.pid_counts[pos_c],
                          torch.zeros_like(pos_c))
        p_max = int(cnt.max()) if c > 0 else 0
        ar = torch.arange(p_max, device=self.device)
        valid = ar[None] < cnt[:, None]
        slot = (self.pid_starts[pos_c][:, None] + ar[None]).clamp(
            max=max(self.num_gallery - 1, 0))
        idx = self.order[slot]
        if self.g_groups is not None and q_groups is not None:
            valid &= self.g_groups[idx] != q_groups[:, None]
        return idx, valid

    def add(self, start: int, dist: Tensor, q_pids: Tensor,
            q_groups: Optional[Tensor]) -> None:
        """Rank queries ``start : start + c``.

        Args:
            start (int): Index of the chunk's first query.
            dist (Tensor): Distances, shape (c, G), on ``self.device``.
            q_pids (Tensor): Query ids of the chunk, shape (c,).
            q_groups (Tensor, optional): Query exclusion groups, shape (c,).
        """
        c, g = dist.shape
        if g != self.num_gallery:
            raise ValueError(f'distance chunk has {g} gallery columns, '
                             f'expected {self.num_gallery}')
        if dist.dtype not in (torch.float32, torch.float64):
            dist = dist.float()
        dist = dist.contiguous()
        lo, hi = torch.aminmax(dist)  # NaN propagates
        if not (bool(torch.isfinite(lo)) and bool(torch.isfinite(hi))):
            raise ValueError(
                'distances must be finite; got NaN or inf for queries '
                f'{start}..{start + c - 1} (check the features)')
        idx, valid = self._positives(q_pids, q_groups)
        p_max = idx.shape[1]
        num_pos = valid.sum(dim=1)
        if p_max > 0:
            inf = torch.tensor(float('inf'), dtype=dist.dtype,
                               device=dist.device)
            pos_d = torch.where(valid, dist.gather(1, idx), inf)
            # idx ascends along each row, so the stable sort orders the
            # positives by (distance, gallery index), excluded ones last.
            pos_d, perm = torch.sort(pos_d, dim=1, stable=True)
            pos_idx = idx.gather(1, perm)
            ranks = self._positive_ranks(dist, q_pids, pos_d, pos_idx,
                                         num_pos)
        else:
            ranks = torch.zeros((c, 0), dtype=torch.long, device=dist.device)
        self._accumulate(start, ranks, num_pos)

    def _positive_ranks(self, dist: Tensor, q_pids: Tensor, pos_d: Tensor,
                        pos_idx: Tensor, num_pos: Tensor) -> Tensor:
        """1-based filtered ranks of the sorted positives, shape (c, P)."""
        c, g = dist.shape
        p_max = pos_d.shape[1]
        dev = dist.device
        nb = p_max + 1
        # Only negatives at or before the last positive change a positive's
        # rank; the rest would land in the ignored bucket ``num_pos``.
        last = pos_d.gather(1, (num_pos - 1).clamp(min=0)[:, None])
        last = torch.where(num_pos[:, None] > 0, last,
                           torch.full_like(last, float('-inf')))
        sel = dist <= last
        sel &= self.g_pids[None] != q_pids[:, None]
        n_sel = int(sel.sum())
        if n_sel == 0:
            counts = torch.zeros((c, nb), dtype=torch.long, device=dev)
        elif n_sel * 4 > c * g:
            # Dense case (weak features): one batched binary search.
            # Number of positives strictly closer than each gallery item.
            before = torch.searchsorted(pos_d, dist, side='left')
            # Exact ties with a positive: the stable order puts the
            # negative first iff its gallery index is smaller.
            at = before.clamp(max=p_max - 1)
            tie = pos_d.gather(1, at) == dist
            del at
            tie &= sel
            if bool(tie.any()):
                rows, cols = tie.nonzero(as_tuple=True)
                before[rows, cols] = self._count_before(
                    rows, cols, dist[rows, cols], pos_d, pos_idx, num_pos)
            del tie
            before.add_((torch.arange(c, device=dev) * nb)[:, None])
            before.masked_fill_(~sel, c * nb)
            counts = torch.bincount(before.view(-1), minlength=c * nb + 1)
            counts = counts[:c * nb].view(c, nb)
        else:
            # Sparse case (the usual one): compare the selected negatives
            # with the positives directly, ties included.
            rows, cols = sel.nonzero(as_tuple=True)
            before = self._count_before(rows, cols, dist[rows, cols], pos_d,
                                        pos_idx, num_pos)
            counts = torch.bincount(
                rows * nb + before, minlength=c * nb).view(c, nb)
        neg_before = torch.cumsum(counts, dim=1)[:, :p_max]
        return neg_before + torch.arange(1, p_max + 1, device=dev)

    @staticmethod
    def _count_before(rows: Tensor, cols: Tensor, values: Tensor,
                      pos_d: Tensor, pos_idx: Tensor,
                      num_pos: Tensor) -> Tensor:
        """For gallery items (rows, cols) with distance ``values``: how many
        of the row's positives precede them in (distance, index) order."""
        p_max = pos_d.shape[1]
        out = torch.empty_like(rows)
        ar = torch.arange(p_max, device=rows.device)[None]
        step = max(1, 2**22 // max(p_max, 1))
        for s in range(0, rows.numel(), step):
            r, col, v = rows[s:s + step], cols[s:s + step], values[s:s + step]
            pd, v = pos_d[r], v[:, None]
            prec = (pd < v) | ((pd == v) & (pos_idx[r] < col[:, None]))
            prec &= ar < num_pos[r][:, None]
            out[s:s + step] = prec.sum(dim=1)
        return out

    def _accumulate(self, start: int, ranks: Tensor, num_pos: Tensor) -> None:
        c, p_max = ranks.shape
        end = start + c
        if self._seen[start:end].any():
            raise RuntimeError(f'queries {start}..{end - 1} ranked twice')
        self._seen[start:end] = True
        ranks = ranks.to(torch.float64)
        npos = num_pos.to(torch.float64)
        ok = num_pos > 0
        acc = torch.zeros(c, dtype=torch.float64, device=ranks.device)
        zero = torch.zeros((), dtype=torch.float64, device=ranks.device)
        # Fixed left-to-right order per row: independent of the chunk.
        for j in range(p_max):
            acc += torch.where(j < num_pos, (j + 1) / ranks[:, j], zero)
        if p_max > 0:
            first = ranks[:, 0]
            last = ranks.gather(1, (num_pos - 1).clamp(min=0)[:, None])[:, 0]
        else:
            first = last = torch.ones(c, dtype=torch.float64,
                                      device=ranks.device)
        ap = torch.where(ok, acc / npos.clamp(min=1), zero)
        inp = torch.where(ok, npos / last, zero)
        self.first_rank[start:end] = torch.where(
            ok, first, zero).long().cpu().numpy()
        self.ap[start:end] = ap.cpu().numpy()
        self.inp[start:end] = inp.cpu().numpy()
        self.valid[start:end] = ok.cpu().numpy()

    def summary(self, max_rank: int = 50, per_query: bool = False) -> Dict:
        """CMC, mAP, mINP over the ranked queries.

        Args:
            max_rank (int): Length of the CMC curve.
            per_query (bool): Also return the per-query values.

        Returns:
            dict: ``cmc`` (np.ndarray, shape (max_rank,)), ``mAP``,
            ``mINP`` (floats in [0, 1]), ``num_valid_queries`` (int); with
            ``per_query``: ``ap``, ``inp`` (Q,) float64, ``first_rank`` (Q,)
            int64 (1-based rank of the first positive) and ``valid`` (Q,)
            bool (the query has a positive; the others hold 0).
        """
        if not self._seen.all():
            missing = int((~self._seen).sum())
            raise RuntimeError(f'{missing} queries were never ranked')
        num_valid = int(self.valid.sum())
        if num_valid == 0:
            raise ValueError(
                'no query has a positive gallery item left after exclusion '
                f'({self.num_query} queries, {self.num_gallery} gallery '
                'items): check the pids and the exclusion groups')
        first = self.first_rank[self.valid]
        hist = np.bincount(np.minimum(first, max_rank + 1),
                           minlength=max_rank + 2)
        cmc = np.cumsum(hist[1:max_rank + 1]) / num_valid
        out = dict(
            cmc=cmc.astype(np.float64),
            mAP=math.fsum(self.ap[self.valid].tolist()) / num_valid,
            mINP=math.fsum(self.inp[self.valid].tolist()) / num_valid,
            num_valid_queries=num_valid)
        if per_query:
            out.update(ap=self.ap.copy(), inp=self.inp.copy(),
                       first_rank=self.first_rank.copy(),
                       valid=self.valid.copy())
        return out


def evaluate_rows(row_fn: Callable[[int, int], Tensor],
                  num_query: int,
                  q_pids: ArrayLike,
                  g_pids: ArrayLike,
                  q_groups: Optional[ArrayLike],
                  g_groups: Optional[ArrayLike],
                  max_rank: int = 50,
                  chunk_size: Optional[int] = None,
                  device: Optional[torch.device] = None,
                  per_query: bool = False) -> Dict:
    """Run the protocol over distance rows supplied chunk by chunk.

    Args:
        row_fn (Callable[[int, int], Tensor]): ``row_fn(s, e)`` returns the
            distances of queries ``s:e`` to the gallery, shape (e - s, G).
        num_query (int): Q.
        q_pids, g_pids: Ids, shapes (Q,), (G,).
        q_groups, g_groups: Exclusion groups (camera or scene ids), shapes
            (Q,), (G,), or both None for no exclusion.
        max_rank (int): CMC length. Defaults to 50.
        chunk_size (int, optional): Queries per chunk; default keeps about
            2**24 pairs per chunk.
        device (torch.device, optional): Device of the distance rows.
        per_query (bool): Also return the per-query ``ap``, ``inp``,
            ``first_rank`` and ``valid`` arrays (see
            :meth:`RankAccumulator.summary`).

    Returns:
        dict: See :func:`evaluate_rank`.
    """
    if int(max_rank) < 1:
        raise ValueError(f'max_rank must be >= 1, got {max_rank}')
    if (q_groups is None) != (g_groups is None):
        raise ValueError('give exclusion groups (camids) for both query and '
                         'gallery, or for neither')
    device = torch.device('cpu') if device is None else torch.device(device)
    q_pids_t = _as_long(q_pids, 'q_pids', num_query, device)
    q_groups_t = _as_long(q_groups, 'q_camids', num_query, device)
    acc = RankAccumulator(g_pids, g_groups, num_query, device)
    if acc.num_gallery == 0 or num_query == 0:
        raise ValueError(f'need at least one query and one gallery item, got '
                         f'{num_query} queries and {acc.num_gallery} gallery '
                         'items')
    if chunk_size is None:
        chunk_size = default_chunk_size(acc.num_gallery)
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
    for s in range(0, num_query, chunk_size):
        e = min(s + chunk_size, num_query)
        dist = row_fn(s, e)
        if tuple(dist.shape) != (e - s, acc.num_gallery):
            raise ValueError(f'distance rows {s}:{e} have shape '
                             f'{tuple(dist.shape)}, expected '
                             f'{(e - s, acc.num_gallery)}')
        acc.add(s, dist.to(device), q_pids_t[s:e],
                None if q_groups_t is None else q_groups_t[s:e])
    return acc.summary(int(max_rank), per_query=per_query)


def evaluate_rank(distmat: ArrayLike,
                  q_pids: ArrayLike,
                  g_pids: ArrayLike,
                  q_camids: Optional[ArrayLike],
                  g_camids: Optional[ArrayLike],
                  max_rank: int = 50,
                  chunk_size: Optional[int] = None) -> Dict:
    """CMC, mAP and mINP from a query-gallery distance matrix.

    Protocol and tie-breaking: see the module docstring (torchreid /
    fast-reid semantics; stable order, ties broken by gallery index).

    Args:
        distmat (np.ndarray | Tensor): Distances, shape (Q, G); smaller is
            more similar. Must be finite.
        q_pids (np.ndarray | Tensor): Query ids, shape (Q,).
        g_pids (np.ndarray | Tensor): Gallery ids, shape (G,).
        q_camids (np.ndarray | Tensor | None): Query exclusion groups, shape
            (Q,): camera ids (standard), scene ids (MSVR310), or None (with
            ``g_camids=None``) to remove nothing.
        g_camids (np.ndarray | Tensor | None): Gallery exclusion groups,
            shape (G,).
        max_rank (int): Length of the CMC curve. Unlike torchreid it is not
            cut to G: CMC@k for k > G is well defined (cumulative) and kept.
            Defaults to 50.
        chunk_size (int, optional): Queries ranked at once (memory only; the
            result does not depend on it).

    Returns:
        dict: ``cmc`` (np.ndarray, shape (max_rank,), fraction of valid
        queries whose first positive is within rank k+1), ``mAP`` (float),
        ``mINP`` (float), ``num_valid_queries`` (int). Fractions in [0, 1].

    Raises:
        ValueError: On mismatched shapes, non-finite distances, or when no
            query has a positive left.
    """
    if isinstance(distmat, np.ndarray):
        distmat = torch.from_numpy(distmat)
    if not isinstance(distmat, Tensor):
        raise TypeError('distmat must be a numpy array or a torch tensor, '
                        f'got {type(distmat).__name__}')
    if distmat.dim() != 2:
        raise ValueError(f'distmat must be 2-D (Q, G), got shape '
                         f'{tuple(distmat.shape)}')
    if distmat.dtype != torch.float64:
        distmat = distmat.float()
    num_q, num_g = distmat.shape
    if _as_long(g_pids, 'g_pids', None, torch.device('cpu')).numel() != num_g:
        raise ValueError(f'g_pids must have {num_g} entries (distmat columns)')
    return evaluate_rows(lambda s, e: distmat[s:e], num_q, q_pids, g_pids,
                         q_camids, g_camids, max_rank, chunk_size,
                         distmat.device)
