# Copyright (c) mmieee contributors.
"""The metric-loss interface of :class:`IEEEHead`.

A metric loss is any module with

* ``input_level``: ``'modality'`` → ``forward(feats (B, M, D), labels (B,))``
  with one D = P·C feature per modality (3M, hetero-center), or ``'fused'`` →
  ``forward(feats (B, M·P·C), labels (B,))`` (triplet, center);
* ``loss_name``: its key in the loss dict, starting with ``loss_`` (mmengine
  sums only those keys into the total loss);
* a scalar result already multiplied by ``loss_weight``.

The head builds the input for the declared level (and refuses, when it is
built, a loss whose ``min_modalities`` exceeds the model's). Subclassing
:class:`BaseMetricLoss` is a convenience (name checks), not a requirement:
the head reads these attributes only.
"""
from typing import Tuple

from torch import nn

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
