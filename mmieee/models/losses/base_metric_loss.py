# Copyright (c) mmieee contributors.
"""The metric-loss interface of :class:`IEEEHead` (DESIGN §4 "Losses").

A metric loss is any module with

* ``input_level``: ``'modality'`` → ``forward(feats (B, M, D), labels (B,))``
  with one D = P·C feature per modality (3M, hetero-center), or ``'fused'`` →
  ``forward(feats (B, M·P·C), labels (B,))`` (triplet, center);
* ``loss_name``: its key in the loss dict, starting with ``loss_`` (mmengine
  sums only those keys into the total loss);
* a scalar result already multiplied by ``loss_weight``.

The head builds the input for the declared level. Subclassing
:class:`BaseMetricLoss` is a convenience (name checks, the shared modality
input checks), not a requirement: the head reads the two attributes only.
"""
from typing import Tuple

import torch
from torch import Tensor, nn

INPUT_LEVELS = ('modality', 'fused')
DISTANCES = ('squared_l2', 'l2')
REDUCTIONS = ('sum', 'mean')


def check_choice(owner: str, name: str, value, choices: Tuple) -> None:
    """Raise ``ValueError`` naming ``owner.name`` if ``value`` is not one of
    ``choices``."""
    if value not in choices:
        raise ValueError(f'{owner}: {name} must be one of {choices}, got '
                         f'{value!r}')


class BaseMetricLoss(nn.Module):
    """Base of the metric losses fed by :class:`IEEEHead`.

    Args:
        loss_weight (float): Factor applied to the loss. Defaults to 1.0.
        loss_name (str): Key of the loss in the head's loss dict; must start
            with ``loss_``.
    """

    #: ``'modality'`` or ``'fused'``; set by each subclass.
    input_level: str = ''

    def __init__(self, loss_weight: float = 1.0, loss_name: str = '') -> None:
        super().__init__()
        owner = type(self).__name__
        check_choice(owner, 'input_level', self.input_level, INPUT_LEVELS)
        if not isinstance(loss_name, str) or not loss_name.startswith('loss_'):
            raise ValueError(f'{owner}: loss_name must start with "loss_" '
                             '(mmengine sums only those keys into the total '
                             f'loss), got {loss_name!r}')
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """str: Key of this loss in the head's loss dict."""
        return self._loss_name

    def check_modality_inputs(self, feats: Tensor, labels: Tensor) -> Tensor:
        """Check (B, M, D) features with M >= 2 and B labels.

        Returns:
            Tensor: ``labels`` flattened to shape (B,).
        """
        owner = type(self).__name__
        if feats.dim() != 3 or feats.size(1) < 2:
            raise ValueError(
                f'{owner} expects per-modality features of shape (B, M, D) '
                f'with M >= 2, got shape {tuple(feats.shape)}')
        if labels.dim() > 1 or labels.numel() != feats.size(0):
            raise ValueError(
                f'{owner} expects labels of shape ({feats.size(0)},), got '
                f'shape {tuple(labels.shape)}')
        return labels.reshape(-1)


def modality_centers(feats: Tensor, labels: Tensor) -> Tensor:
    """Per-identity, per-modality mean features, grouped by label value.

    Args:
        feats (Tensor): Features, shape (B, M, D).
        labels (Tensor): Identity labels, shape (B,), any integer values in
            any order.

    Returns:
        Tensor: Centres, shape (U, M, D), U = number of distinct labels, in
        ascending label order.
    """
    _, inverse, counts = torch.unique(
        labels, sorted=True, return_inverse=True, return_counts=True)
    sums = feats.new_zeros((counts.numel(), ) + tuple(feats.shape[1:]))
    sums = sums.index_add(0, inverse, feats)
    return sums / counts.to(feats.dtype)[:, None, None]


def modality_pair_distances(centers: Tensor, distance: str) -> Tensor:
    """Distances between the modality centres of each identity.

    Args:
        centers (Tensor): (U, M, D) centres from :func:`modality_centers`.
        distance (str): ``'squared_l2'`` or ``'l2'``.

    Returns:
        Tensor: (U, M·(M-1)/2) distances, pairs (j, k), j < k, in
        lexicographic order.
    """
    check_choice('modality_pair_distances', 'distance', distance, DISTANCES)
    pairs = torch.combinations(
        torch.arange(centers.size(1), device=centers.device), r=2)
    dist = (centers[:, pairs[:, 0]] - centers[:, pairs[:, 1]]).pow(2).sum(-1)
    if distance == 'l2':
        # clamp: sqrt has an infinite gradient where two centres coincide.
        dist = dist.clamp_min(1e-12).sqrt()
    return dist
