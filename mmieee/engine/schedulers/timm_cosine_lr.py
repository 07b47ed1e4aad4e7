# Copyright (c) mmieee contributors.
"""The learning-rate schedule of TOP-ReID and DeMo: timm's cosine schedule
with a linear warm-up from an absolute value, an absolute floor and optional
learning-rate noise, stepped once per epoch.

Reproduces ``solver/cosine_lr.py`` + ``solver/scheduler.py`` (a copy of
timm's ``CosineLRScheduler``) as ``solver/scheduler_factory.py`` builds it
and ``engine/processor.py`` steps it, in both official repositories
(github.com/924973292/TOP-ReID, github.com/924973292/DeMo): ``t_mul = 1``,
``decay_rate`` irrelevant, ``cycle_limit = 1``, ``warmup_prefix = False``,
``t_in_epochs = True``. The official loop calls ``scheduler.step(epoch)`` at
the *start* of epoch ``epoch = 1 .. max_epochs``; mmengine's
``ParamSchedulerHook`` steps after each epoch and the scheduler's
constructor takes the first step. So the value mmengine sets at step
``last_step`` (0 at construction) is the official value of epoch index
``t = last_step + 1``, and the ``k``-th training epoch (0-based) runs at the
official ``t = k + 1``.

Why not mmengine's ``LinearLR`` + ``CosineAnnealingLR``: their warm-up is a
factor of each group's own learning rate and the cosine starts where the
warm-up ends, whereas the official schedule warms every group up from one
*absolute* value (so a group whose learning rate is below that value warms
*down*), evaluates the cosine at the unshifted epoch index (a jump where the
warm-up ends) and gives every group the same absolute floor; the noise has
no mmengine counterpart.
"""
import math
from typing import List, Optional, Sequence

import torch
from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mmieee.registry import PARAM_SCHEDULERS
from mmieee.utils.arg_checks import check_int

#: Draws of the noise before giving up (the official loop has no limit; with
#: ``noise_pct`` >= 0.01 one draw in three or fewer is accepted).
MAX_NOISE_DRAWS = 100000


@PARAM_SCHEDULERS.register_module()
class TimmCosineLR(LRSchedulerMixin, _ParamScheduler):
    r"""Cosine learning rate with linear warm-up, floor and optional noise.

    With ``b`` a parameter group's learning rate as the optimizer was built
    (its ``initial_lr``) and ``t = last_step + 1`` the 1-based index of the
    epoch (of the iteration with ``by_epoch=False``) that is about to run:

    .. math::

        \mathrm{lr}(t) =
        \begin{cases}
        w + t\,(b - w) / T_w & t < T_w \\
        m + \tfrac12 (b - m)\,(1 + \cos(\pi t / T)) & T_w \le t < T \\
        m & t \ge T
        \end{cases}

    with ``w = warmup_lr_init``, ``m = lr_min``, ``T_w = warmup_t``,
    ``T = t_initial``. ``w`` and ``m`` are absolute and the same for every
    group. Consequences the official runs have (and this keeps):

    * the warm-up never reaches ``b`` (at ``t = T_w - 1`` it is
      ``w + (T_w - 1)(b - w) / T_w``) and the cosine, evaluated at the
      unshifted ``t``, takes over at ``t = T_w`` below ``b``: a jump;
    * a group whose ``b`` is below ``w`` (DeMo's CLIP encoder, 5e-6 vs.
      3.5e-5) warms *down* from ``w`` to ``b``;
    * the last epoch (``t = T``) runs at ``m``.

    **Noise** (``noise_range=(start, end)``; ``None`` switches it off): for
    ``start <= t < end`` a CPU ``torch.Generator`` is seeded with
    ``noise_seed + t``, ``torch.randn(1)`` is drawn (float32) until
    ``|n| < noise_pct``, and every group's value becomes ``lr + lr * n``
    (one factor shared by all groups). The noise depends on ``t`` only, not
    on the training seed, so a resumed run draws the same factors. DeMo's
    official runs have it on with ``noise_range=(0, max_epochs)``,
    ``noise_pct=0.67``, ``noise_seed=42`` (the official factory also stores
    ``noise_std=1.0``, which the official code never reads): the learning
    rate of each epoch is scaled by a factor in (0.33, 1.67), e.g. ×0.35 in
    the first epoch. TOP-ReID's runs have no noise.

    Args:
        optimizer (Optimizer | OptimWrapper): The optimizer (wrapper).
        t_initial (int): Length ``T`` of the cosine, normally the number of
            epochs (``max_epochs``).
        lr_min (float): Absolute floor ``m``, the same for every group (the
            official factories use ``0.001 * base_lr``). Defaults to 0.
        warmup_t (int): Warm-up length ``T_w`` (0: no warm-up). Defaults
            to 0.
        warmup_lr_init (float): Absolute start ``w`` of the warm-up, the
            same for every group (TOP-ReID: ``0.01 * base_lr``, DeMo:
            ``0.1 * base_lr``). Defaults to 0.
        noise_range (Sequence[int], optional): ``(start, end)``: the
            indices ``t`` with ``start <= t < end`` get noise. None (the
            default) switches the noise off.
        noise_pct (float): Noise limit: factors ``n`` are redrawn until
            ``|n| < noise_pct``. Defaults to 0.67 (official).
        noise_seed (int): The factor of index ``t`` is drawn with the seed
            ``noise_seed + t``. Defaults to 42 (official).
        begin (int): Step at which the schedule starts (its ``t = 1``).
            Defaults to 0.
        end (int): Step at which it stops updating. Defaults to INF.
        last_step (int): Index of the last step, for resuming without a
            state dict. Defaults to -1.
        by_epoch (bool): Step once per epoch (the official way). Defaults
            to True.
        verbose (bool): Log every update. Defaults to False.
    """

    def __init__(self,
                 optimizer,
                 t_initial: int,
                 lr_min: float = 0.,
                 warmup_t: int = 0,
                 warmup_lr_init: float = 0.,
                 noise_range: Optional[Sequence[int]] = None,
                 noise_pct: float = 0.67,
                 noise_seed: int = 42,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = True,
                 verbose: bool = False):
        name = type(self).__name__
        check_int(name, 't_initial', t_initial)
        check_int(name, 'warmup_t', warmup_t, 0)
        for arg, value in (('lr_min', lr_min),
                           ('warmup_lr_init', warmup_lr_init)):
            if not isinstance(value, (int, float)) or isinstance(
                    value, bool) or not math.isfinite(value) or value < 0:
                raise ValueError(f'{name}: {arg} must be a finite number >= '
                                 f'0, got {value!r}.')
        if noise_range is not None:
            if (isinstance(noise_range, (str, bytes))
                    or not isinstance(noise_range, Sequence)
                    or len(noise_range) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool)
                               for v in noise_range)
                    or noise_range[0] >= noise_range[1]):
                raise ValueError(
                    f'{name}: noise_range must be None (no noise) or '
                    '(start, end) with integers start < end, got '
                    f'{noise_range!r}.')
            noise_range = (int(noise_range[0]), int(noise_range[1]))
            if not isinstance(noise_pct, (int, float)) or isinstance(
                    noise_pct, bool) or not 0 < noise_pct < math.inf:
                raise ValueError(f'{name}: noise_pct must be a number > 0 '
                                 f'(the noise limit), got {noise_pct!r}.')
            if isinstance(noise_seed, bool) or not isinstance(
                    noise_seed, int):
                raise ValueError(f'{name}: noise_seed must be an integer, '
                                 f'got {noise_seed!r}.')
        self.t_initial = t_initial
        self.lr_min = float(lr_min)
        self.warmup_t = warmup_t
        self.warmup_lr_init = float(warmup_lr_init)
        self.noise_range = noise_range
        self.noise_pct = float(noise_pct)
        self.noise_seed = int(noise_seed)
        super().__init__(
            optimizer,
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, **kwargs):
        """Refuse ``convert_to_iter_based=True``.

        The official schedule changes once per epoch, and its noise is
        seeded by the epoch index; an iteration-based copy would be another
        schedule. For a per-iteration schedule, give ``by_epoch=False`` and
        ``t_initial`` / ``warmup_t`` / ``noise_range`` in iterations.
        """
        raise ValueError(
            f'{cls.__name__} does not support convert_to_iter_based=True: '
            'the official schedule steps once per epoch and seeds its noise '
            'with the epoch index. Use by_epoch=True, or by_epoch=False with '
            't_initial, warmup_t and noise_range given in iterations.')

    def noise_at(self, t: int) -> float:
        """The noise factor ``n`` of index ``t`` (0.0 outside the range).

        Args:
            t (int): 1-based epoch index.

        Returns:
            float: ``n`` with ``|n| < noise_pct``; every group's value is
            ``lr + lr * n``.
        """
        if self.noise_range is None or not (
                self.noise_range[0] <= t < self.noise_range[1]):
            return 0.0
        generator = torch.Generator()
        generator.manual_seed(self.noise_seed + t)
        for _ in range(MAX_NOISE_DRAWS):
            noise = torch.randn(
                1, generator=generator, dtype=torch.float32).item()
            if abs(noise) < self.noise_pct:
                return noise
        raise RuntimeError(
            f'{type(self).__name__}: no noise draw below noise_pct='
            f'{self.noise_pct} in {MAX_NOISE_DRAWS} draws at t={t}; use a '
            'larger noise_pct (official: 0.67).')

    def lr_at(self, t: int) -> List[float]:
        """Every group's learning rate at 1-based index ``t``, noise
        included.

        Args:
            t (int): 1-based epoch index (the official ``epoch``).

        Returns:
            list[float]: One value per parameter group, in
            ``optimizer.param_groups`` order.
        """
        values = []
        for base in self.base_values:
            if t < self.warmup_t:
                step = (base - self.warmup_lr_init) / self.warmup_t
                value = self.warmup_lr_init + t * step
            elif t < self.t_initial:
                value = self.lr_min + 0.5 * (base - self.lr_min) * (
                    1 + math.cos(math.pi * t / self.t_initial))
            else:
                value = self.lr_min
            values.append(value)
        if self.noise_range is not None and (
                self.noise_range[0] <= t < self.noise_range[1]):
            noise = self.noise_at(t)
            # ``v + v * n``, not ``v * (1 + n)``: the official arithmetic,
            # which differs in the last bit.
            values = [v + v * noise for v in values]
        return values

    def _get_value(self) -> List[float]:
        """The values of the step just taken (``t = last_step + 1``)."""
        return self.lr_at(self.last_step + 1)
