# Copyright (c) mmieee contributors.
"""EpochSeedHook: every epoch's randomness is a function of (seed, epoch)."""
import functools
import random
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.dataset import worker_init_fn as default_worker_init_fn
from mmengine.logging import MMLogger
from torch.utils.data import DataLoader

from mmieee.engine import EpochSeedHook, epoch_seed


def _runner(seed, epoch, loader=None):
    loader = loader or DataLoader(list(range(4)))
    return SimpleNamespace(
        seed=seed,
        epoch=epoch,
        train_loop=SimpleNamespace(dataloader=loader),
        logger=MMLogger.get_instance('test_epoch_seed_hook'))


def _draw():
    return (random.random(), float(np.random.rand()),
            float(torch.rand(1)))


def test_epoch_seed_is_deterministic_and_distinct():
    assert epoch_seed(0, 3) == epoch_seed(0, 3)
    seeds = {epoch_seed(s, e) for s in range(5) for e in range(20)}
    assert len(seeds) == 100
    assert all(0 <= s < 2**32 for s in seeds)


def test_generators_depend_only_on_seed_and_epoch():
    hook = EpochSeedHook()
    hook.before_train_epoch(_runner(7, 2))
    first = _draw()
    _draw()  # whatever happened since (an epoch of augmentation) ...
    hook.before_train_epoch(_runner(7, 2))
    assert _draw() == first  # ... is forgotten at the epoch start
    hook.before_train_epoch(_runner(7, 3))
    assert _draw() != first
    np.random.seed(epoch_seed(7, 2))
    assert float(np.random.rand()) == first[1]


def test_no_seed_leaves_generators_alone():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    EpochSeedHook().before_train_epoch(_runner(None, 4))
    assert np.random.rand() == expected


def test_worker_seed_follows_the_epoch():
    init_fn = functools.partial(
        default_worker_init_fn, num_workers=2, rank=0, seed=7)
    loader = DataLoader(list(range(4)), num_workers=2,
                        worker_init_fn=init_fn)
    EpochSeedHook().before_train_epoch(_runner(7, 5, loader))
    new = loader.worker_init_fn
    assert new.func is default_worker_init_fn
    assert new.keywords == dict(num_workers=2, rank=0,
                                seed=epoch_seed(7, 5))


def test_persistent_workers_are_left_with_a_warning():
    init_fn = functools.partial(
        default_worker_init_fn, num_workers=1, rank=0, seed=7)
    loader = DataLoader(list(range(4)), num_workers=1,
                        persistent_workers=True, worker_init_fn=init_fn)
    hook = EpochSeedHook()
    runner = _runner(7, 1, loader)
    warnings = []
    runner.logger = SimpleNamespace(warning=warnings.append)
    hook.before_train_epoch(runner)
    hook.before_train_epoch(runner)
    assert loader.worker_init_fn is init_fn
    assert len(warnings) == 1 and 'persistent' in warnings[0]
