# Copyright (c) mmieee contributors.
"""Query-gallery distances for Re-ID evaluation (the protocol is in
docs/evaluation.md).

Two metrics, with the conventions of torchreid / fast-reid:

* ``'euclidean'``: the *squared* Euclidean distance
  ``||q||^2 + ||g||^2 - 2 q.g`` (no square root, no clamping; the ranking is
  the same as with the root and no near-equal values are merged into ties).
* ``'cosine'``: ``1 - <q/||q||, g/||g||>``.

``normalize=True`` L2-normalises both feature sets first (meaningful with
``'euclidean'``; cosine always normalises).

Why rows are computed in fixed, aligned blocks: BLAS/cuBLAS pick different
kernels (and so different summation orders) for different numbers of rows,
so ``(q[s:e] @ g.T)`` is not bitwise equal to ``(q @ g.T)[s:e]`` in general
(measured with torch 2.13 on CPU). :class:`PairwiseDistance` therefore always
computes query rows in blocks ``[k * block_size, (k + 1) * block_size)``
aligned to the absolute query index, whatever rows the caller asks for. Every
distance is then bitwise identical between the dense path
(:func:`compute_distance`) and the chunked evaluator, for any chunk size.
"""
from typing import Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

ArrayLike = Union[np.ndarray, Tensor]

DISTANCE_METRICS = ('euclidean', 'cosine')


def _as_float_tensor(x: ArrayLike, name: str) -> Tensor:
    """Convert features to a 2-D float tensor (float32 unless float64)."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, Tensor):
        raise TypeError(f'{name} must be a numpy array or a torch tensor, '
                        f'got {type(x).__name__}')
    if x.dim() != 2:
        raise ValueError(f'{name} must be 2-D (num_samples, dim), got shape '
                         f'{tuple(x.shape)}')
    if x.dtype != torch.float64:
        x = x.float()
    return x


#: Elements of the gallery squared at once when its norms are computed.
NORM_BLOCK_ELEMENTS = 2**24


def _squared_norms(x: Tensor) -> Tensor:
    """Row-wise ``(x * x).sum(1)`` in blocks of rows, so that a large
    gallery is not copied whole (1M x 2304 floats: 9.2 GB) to square it."""
    rows = max(1, NORM_BLOCK_ELEMENTS // max(x.shape[1], 1))
    return torch.cat([(b * b).sum(dim=1) for b in x.split(rows)]) \
        if x.shape[0] else x.new_zeros(0)


class PairwiseDistance:
    """Rows of the query-gallery distance matrix, computed block by block.

    The gallery side (norms or normalised features) is prepared once; rows
    are computed on the features' device in query blocks aligned to
    ``block_size`` (see the module docstring), and the last block is cached
    so consecutive small chunks do not recompute it.

    Args:
        q_feats (Tensor | np.ndarray): Query features, shape (Q, D).
        g_feats (Tensor | np.ndarray): Gallery features, shape (G, D).
        metric (str): ``'euclidean'`` (squared) or ``'cosine'``.
        normalize (bool): L2-normalise the features first.
        block_size (int): Query rows per matrix product. Part of the
            numerical definition of the distances: the same value gives the
            same bits. Larger blocks re-pack the gallery for the matrix
            product fewer times (faster) and cost ``block_size * G * 4``
            bytes. Defaults to 512.
    """

    def __init__(self,
                 q_feats: ArrayLike,
                 g_feats: ArrayLike,
                 metric: str = 'euclidean',
                 normalize: bool = False,
                 block_size: int = 512) -> None:
        if metric not in DISTANCE_METRICS:
            raise ValueError(f'metric must be one of {DISTANCE_METRICS}, got '
                             f'{metric!r}')
        if int(block_size) < 1:
            raise ValueError(f'block_size must be >= 1, got {block_size}')
        q = _as_float_tensor(q_feats, 'q_feats')
        g = _as_float_tensor(g_feats, 'g_feats')
        if q.shape[1] != g.shape[1]:
            raise ValueError('q_feats and g_feats must have the same feature '
                             f'dim, got {q.shape[1]} and {g.shape[1]}')
        if q.device != g.device:
            raise ValueError('q_feats and g_feats must be on the same device, '
                             f'got {q.device} and {g.device}')
        dtype = torch.promote_types(q.dtype, g.dtype)
        q, g = q.to(dtype), g.to(dtype)
        if normalize or metric == 'cosine':
            q = F.normalize(q, p=2, dim=1)
            g = F.normalize(g, p=2, dim=1)
        self.q, self.g = q, g
        self.metric = metric
        self.block_size = int(block_size)
        self.g_t = g.t()
        self.g_sqnorm = _squared_norms(g) if metric == 'euclidean' else None
        self._cache: Optional[Tuple[int, Tensor]] = None

    @property
    def shape(self) -> Tuple[int, int]:
        """(Q, G)."""
        return self.q.shape[0], self.g.shape[0]

    @property
    def device(self) -> torch.device:
        return self.q.device

    def _block(self, k: int) -> Tensor:
        if self._cache is not None and self._cache[0] == k:
            return self._cache[1]
        qb = self.q[k * self.block_size:(k + 1) * self.block_size]
        if self.metric == 'euclidean':
            base = (qb * qb).sum(dim=1, keepdim=True) + self.g_sqnorm[None]
            dist = torch.addmm(base, qb, self.g_t, beta=1, alpha=-2)
        else:
            dist = torch.addmm(
                torch.ones((), dtype=qb.dtype, device=qb.device),
                qb,
                self.g_t,
                beta=1,
                alpha=-1)
        self._cache = (k, dist)
        return dist

    def rows(self, start: int, end: int) -> Tensor:
        """Distances of queries ``start:end`` to the whole gallery.

        Args:
            start (int): First query row.
            end (int): One past the last query row.

        Returns:
            Tensor: Shape (end - start, G), on the features' device.
        """
        bs = self.block_size
        parts = []
        k = start // bs
        while k * bs < end:
            block = self._block(k)
            lo = max(start - k * bs, 0)
            hi = min(end - k * bs, block.shape[0])
            parts.append(block[lo:hi])
            k += 1
        if len(parts) == 1:
            return parts[0]
        return torch.cat(parts, dim=0)


def compute_distance(q_feats: ArrayLike,
                     g_feats: ArrayLike,
                     metric: str = 'euclidean',
                     normalize: bool = False,
                     block_size: int = 512) -> Tensor:
    """Dense query-gallery distance matrix.

    Args:
        q_feats (Tensor | np.ndarray): Query features, shape (Q, D).
        g_feats (Tensor | np.ndarray): Gallery features, shape (G, D).
        metric (str): ``'euclidean'`` (squared Euclidean, as torchreid and
            fast-reid) or ``'cosine'`` (``1 - cosine similarity``).
            Defaults to ``'euclidean'``.
        normalize (bool): L2-normalise the features before the distance.
            Defaults to False.
        block_size (int): Query rows per matrix product (see the module
            docstring); the chunked evaluator uses the same value so that
            both paths see identical distances. Defaults to 512.

    Returns:
        Tensor: Distances, shape (Q, G), float32 (float64 for float64
        input), on the features' device.
    """
    pdist = PairwiseDistance(q_feats, g_feats, metric, normalize, block_size)
    return pdist.rows(0, pdist.shape[0])
