# Copyright (c) mmieee contributors.
"""k-reciprocal re-ranking (Zhong et al., "Re-ranking Person
Re-identification with k-reciprocal Encoding", CVPR 2017, Eq. 1-14), with
the numerical conventions of the reference implementation that torchreid
and fast-reid ship (``re_ranking(q_g_dist, q_q_dist, g_g_dist, k1, k2,
lambda_value)``).

Over all N = Q + G samples (queries first):

* original distance ``d(i, j) = D(i, j)^2 / max_j D(i, j)^2`` with D the
  chosen feature distance (the reference squares its input and normalises
  by the column maximum then transposes; for a symmetric D that is this row
  normalisation);
* ``N(i, k)``: the k+1 first items of row i in a stable ascending order
  (ties by index); ``R(i, k) = {j in N(i, k) : i in N(j, k)}`` (Eq. 4);
* expansion (Eq. 5): ``R*(i) = R(i, k1)`` united with every
  ``R(c, round(k1 / 2))``, c in ``R(i, k1)``, that shares more than 2/3 of
  its items with ``R(i, k1)``;
* ``V(i, j) = exp(-d(i, j)) / sum_{j' in R*(i)} exp(-d(i, j'))`` for
  ``j in R*(i)``, else 0 (Eq. 7);
* local query expansion (Eq. 11): ``V(i) <- mean_{t in N(i, k2 - 1)} V(t)``
  when ``k2 > 1``;
* Jaccard distance (Eq. 10, 12): ``dJ(i, j) = 1 - S / (2 - S)``,
  ``S = sum_k min(V(i, k), V(j, k))`` (rows of V sum to 1);
* final (Eq. 13): ``(1 - lambda) * dJ + lambda * d``, query rows x gallery
  columns.

Memory and compute: the N x N distance matrix is never held; rows are
computed in chunks (twice: neighbour lists, then the weights) and each query
chunk once more for the result, so compute is O(N^2 D). Kept in memory:
the neighbour lists, N x (k1 + 1) int64, and the sparse V: at most
``(k1 + 1) * (round(k1 / 2) + 2)`` entries per row before query expansion
and ``k2`` times that after (about 12 bytes an entry), plus one chunk of
``chunk_size x N`` distances. Re-ranking runs on the CPU (the distance rows
may come from the GPU): sparse sums use ``index_add_`` on CPU, which adds in
a fixed order, so the result is deterministic.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from .distance import ArrayLike, PairwiseDistance, _as_float_tensor
from .ranking import default_chunk_size


def _unique_rows(cols: Tensor, valid: Tensor, sentinel: int):
    """Sort each row, drop duplicates and invalid slots.

    Returns:
        tuple: sorted ``cols`` (n, L) and its mask of first occurrences.
    """
    cols = torch.where(valid, cols, torch.full_like(cols, sentinel))
    cols, _ = torch.sort(cols, dim=1)
    keep = cols != sentinel
    keep[:, 1:] &= cols[:, 1:] != cols[:, :-1]
    return cols, keep


class KReciprocalReRanking:
    """Re-ranked query-gallery distances, available by query rows.

    Args:
        q_feats (Tensor | np.ndarray): Query features, shape (Q, D).
        g_feats (Tensor | np.ndarray): Gallery features, shape (G, D).
        metric (str): Base distance, ``'euclidean'`` (squared) or
            ``'cosine'``.
        normalize (bool): L2-normalise the features first.
        k1 (int): Size of the k-reciprocal neighbourhood. Defaults to 20.
        k2 (int): Neighbours averaged by local query expansion (1 = off).
            Defaults to 6.
        lambda_value (float): Weight of the original distance.
            Defaults to 0.3.
        chunk_size (int, optional): Rows of the N x N distance computed at
            once. Default: about 2**24 / N.
        block_size (int): See :class:`~.distance.PairwiseDistance`.
    """

    def __init__(self,
                 q_feats: ArrayLike,
                 g_feats: ArrayLike,
                 metric: str = 'euclidean',
                 normalize: bool = False,
                 k1: int = 20,
                 k2: int = 6,
                 lambda_value: float = 0.3,
                 chunk_size: Optional[int] = None,
                 block_size: int = 512) -> None:
        q = _as_float_tensor(q_feats, 'q_feats')
        g = _as_float_tensor(g_feats, 'g_feats')
        k1, k2 = int(k1), int(k2)
        self.num_query, self.num_gallery = q.shape[0], g.shape[0]
        n = self.num_query + self.num_gallery
        if k1 < 1 or k2 < 1:
            raise ValueError(f'k1 and k2 must be >= 1, got k1={k1}, k2={k2}')
        if k1 + 1 > n or k2 > k1 + 1:
            raise ValueError(f'need k1 + 1 <= N (={n}) and k2 <= k1 + 1, got '
                             f'k1={k1}, k2={k2}')
        if not 0.0 <= lambda_value <= 1.0:
            raise ValueError(f'lambda_value must be in [0, 1], got '
                             f'{lambda_value}')
        self.n, self.k1, self.k2 = n, k1, k2
        self.lambda_value = float(lambda_value)
        self.chunk_size = int(chunk_size or default_chunk_size(n))
        feats = torch.cat([q, g.to(q.device, q.dtype)], dim=0)
        self.pdist = PairwiseDistance(feats, feats, metric, normalize,
                                      block_size)
        with torch.no_grad():
            self._build()

    def _orig_rows(self, s: int, e: int) -> Tensor:
        """Normalised original distance rows s:e, shape (e - s, N), CPU."""
        d = self.pdist.rows(s, e).float().cpu()
        d = d * d
        return d / d.max(dim=1, keepdim=True).values

    def _build(self) -> None:
        n, k1 = self.n, self.k1
        kh = int(round(k1 / 2))  # half to even, as np.around
        # Pass 1: neighbour lists N(i, k1).
        nn = torch.empty((n, k1 + 1), dtype=torch.long)
        for s in range(0, n, self.chunk_size):
            e = min(s + self.chunk_size, n)
            order = torch.argsort(self._orig_rows(s, e), dim=1, stable=True)
            nn[s:e] = order[:, :k1 + 1]
        self.nn = nn
        ar = torch.arange(n)
        # k-reciprocal sets R(i, k1) and R(i, kh) as masks over nn slots.
        recip = (nn[nn] == ar[:, None, None]).any(dim=2)  # (n, k1 + 1)
        nnh = nn[:, :kh + 1]
        recip_h = (nnh[nnh] == ar[:, None, None]).any(dim=2)  # (n, kh + 1)
        # Expansion (Eq. 5): candidate c = nn[i, a] with a in R(i, k1).
        cand_sets = nnh[nn]  # (n, k1 + 1, kh + 1)
        cand_mask = recip_h[nn]  # (n, k1 + 1, kh + 1)
        inter = ((cand_sets[..., None] == nn[:, None, None, :])
                 & recip[:, None, None, :]).any(dim=3) & cand_mask
        accept = inter.sum(dim=2).double() > (
            2. / 3) * cand_mask.sum(dim=2).double()
        accept &= recip
        members = torch.cat([nn, cand_sets.reshape(n, -1)], dim=1)
        member_ok = torch.cat(
            [recip, (cand_mask & accept[..., None]).reshape(n, -1)], dim=1)
        cols, keep = _unique_rows(members, member_ok, n)
        # Pass 2: weights V(i, j) = softmax of -d over R*(i) (Eq. 7).
        vals = torch.zeros(cols.shape, dtype=torch.float32)
        for s in range(0, n, self.chunk_size):
            e = min(s + self.chunk_size, n)
            d = self._orig_rows(s, e).gather(1, cols[s:e].clamp(max=n - 1))
            w = torch.where(keep[s:e], torch.exp(-d), torch.zeros_like(d))
            vals[s:e] = w / w.sum(dim=1, keepdim=True)
        rows = ar[:, None].expand_as(cols)
        v_rows, v_cols, v_vals = rows[keep], cols[keep], vals[keep]
        if self.k2 > 1:
            v_rows, v_cols, v_vals = self._query_expansion(
                v_rows, v_cols, v_vals)
        # Column-major copy (stable, so rows stay ascending per column) for
        # the Jaccard sums.
        order = torch.argsort(v_cols, stable=True)
        self.csc_rows, self.csc_vals = v_rows[order], v_vals[order]
        self.col_ptr = torch.zeros(n + 1, dtype=torch.long)
        self.col_ptr[1:] = torch.cumsum(torch.bincount(v_cols, minlength=n),
                                        0)
        self.row_ptr = torch.zeros(n + 1, dtype=torch.long)
        self.row_ptr[1:] = torch.cumsum(torch.bincount(v_rows, minlength=n),
                                        0)
        self.v_cols, self.v_vals = v_cols, v_vals

    @staticmethod
    def _expand(ptr: Tensor, which: Tensor) -> Tuple[Tensor, Tensor]:
        """Entry positions of CSR rows ``which`` (in order), and for each the
        position in ``which`` it came from."""
        lengths = ptr[which + 1] - ptr[which]
        src = torch.repeat_interleave(torch.arange(which.numel()), lengths)
        starts = torch.repeat_interleave(ptr[which], lengths)
        offset = torch.arange(src.numel()) - torch.repeat_interleave(
            torch.cumsum(lengths, 0) - lengths, lengths)
        return starts + offset, src

    def _query_expansion(self, rows: Tensor, cols: Tensor,
                         vals: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """V(i) <- mean of V over N(i, k2 - 1) (Eq. 11), sparse."""
        n, k2 = self.n, self.k2
        ptr = torch.zeros(n + 1, dtype=torch.long)
        ptr[1:] = torch.cumsum(torch.bincount(rows, minlength=n), 0)
        targets = self.nn[:, :k2].reshape(-1)  # row t feeds row i
        pos, src = self._expand(ptr, targets)
        out_rows = torch.div(src, k2, rounding_mode='floor')
        key = out_rows * n + cols[pos]
        uniq, inverse = torch.unique(key, sorted=True, return_inverse=True)
        # index_add_ on CPU accumulates in source order: neighbour order.
        acc = torch.zeros(uniq.numel(), dtype=torch.float32)
        acc.index_add_(0, inverse, vals[pos])
        return (torch.div(uniq, n, rounding_mode='floor'), uniq % n,
                acc / k2)

    def rows(self, start: int, end: int) -> Tensor:
        """Re-ranked distances of queries ``start:end`` to the gallery.

        Args:
            start (int): First query.
            end (int): One past the last query.

        Returns:
            Tensor: Shape (end - start, G), float64, CPU.
        """
        n, q = self.n, self.num_query
        c = end - start
        which = torch.arange(start, end)
        pos, src = self._expand(self.row_ptr, which)
        ks, v_ik = self.v_cols[pos], self.v_vals[pos]
        # For every (i, k) entry, the entries (j, V(j, k)) of column k.
        cpos, csrc = self._expand(self.col_ptr, ks)
        target = src[csrc] * n + self.csc_rows[cpos]
        contrib = torch.minimum(v_ik[csrc], self.csc_vals[cpos]).double()
        # Sums in ascending k per (i, j): a fixed order (CPU index_add_).
        s_min = torch.zeros(c * n, dtype=torch.float64)
        s_min.index_add_(0, target, contrib)
        s_min = s_min.view(c, n)[:, q:]
        jaccard = 1 - s_min / (2 - s_min)
        orig = self._orig_rows(start, end)[:, q:].double()
        return jaccard * (1 - self.lambda_value) + orig * self.lambda_value


def re_ranking(q_feats: ArrayLike,
               g_feats: ArrayLike,
               metric: str = 'euclidean',
               normalize: bool = False,
               k1: int = 20,
               k2: int = 6,
               lambda_value: float = 0.3,
               chunk_size: Optional[int] = None) -> Tensor:
    """Dense k-reciprocal re-ranked distance matrix (small sets).

    Args:
        q_feats (Tensor | np.ndarray): Query features, shape (Q, D).
        g_feats (Tensor | np.ndarray): Gallery features, shape (G, D).
        metric (str): ``'euclidean'`` (squared) or ``'cosine'``.
        normalize (bool): L2-normalise the features first.
        k1 (int): Defaults to 20.
        k2 (int): Defaults to 6.
        lambda_value (float): Defaults to 0.3.
        chunk_size (int, optional): Rows computed at once.

    Returns:
        Tensor: Shape (Q, G), float64, CPU.
    """
    rr = KReciprocalReRanking(q_feats, g_feats, metric, normalize, k1, k2,
                              lambda_value, chunk_size)
    return rr.rows(0, rr.num_query)
