# Copyright (c) mmieee contributors.
"""Per-epoch re-seeding, so that ``--resume`` reproduces an uninterrupted run.

The guarantee: with ``randomness.deterministic=True``, a run killed and
resumed with ``--resume`` ends with the weights of an uninterrupted run.

Why a hook: mmengine seeds the random generators once, when the Runner is
built. A run resumed at epoch ``e`` therefore starts epoch ``e`` with freshly
seeded generators, while an uninterrupted run reaches epoch ``e`` with
generators advanced by ``e`` epochs of augmentation: the random flips differ
and so do the final weights. mmengine restores the sampler's epoch (through
``DistSamplerSeedHook``) but not the generator states. This hook derives every
epoch's randomness from ``(seed, epoch)`` alone:

* the main process's ``random``, ``numpy`` and ``torch`` generators are
  re-seeded before each training epoch (this is where the augmentation
  randomness lives with ``num_workers=0``);
* with ``num_workers > 0`` and non-persistent workers, the dataloader's
  ``worker_init_fn`` (mmengine's ``default_worker_init_fn``) is re-bound to
  the epoch's seed, so each epoch's workers draw new — and reproducible —
  numbers instead of repeating the first epoch's stream.

Persistent workers keep their generator state across epochs, which no hook in
the main process can rewind; the hook says so in the log once.
"""
import functools
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dataset import worker_init_fn as default_worker_init_fn
from mmengine.hooks import Hook

from mmieee.registry import HOOKS


def epoch_seed(seed: int, epoch: int) -> int:
    """Derive a 32-bit seed from a base seed and an epoch index.

    Args:
        seed (int): The run's base seed (``runner.seed``).
        epoch (int): 0-based index of the epoch about to run.

    Returns:
        int: A seed in ``[0, 2**32)``, distinct for distinct ``(seed, epoch)``
        with overwhelming probability.
    """
    sequence = np.random.SeedSequence([seed % 2**32, epoch])
    return int(sequence.generate_state(1)[0])


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Re-seed all generators from ``(runner.seed, epoch)`` before each epoch.

    Add it to ``custom_hooks`` (``configs/_base_/default_runtime.py`` does).
    It does nothing when the run has no seed.
    """

    # Run before the other hooks of `before_train_epoch` (the sampler's
    # set_epoch does not depend on the global generators either way).
    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._warned = False

    def before_train_epoch(self, runner) -> None:
        """Seed ``random``, ``numpy``, ``torch`` and the dataloader workers.

        Args:
            runner (Runner): The mmengine runner.
        """
        seed: Optional[int] = runner.seed
        if seed is None:
            return
        new_seed = epoch_seed(seed, runner.epoch)
        random.seed(new_seed)
        np.random.seed(new_seed)
        torch.manual_seed(new_seed)
        self._rebind_worker_seed(runner, new_seed)

    def _rebind_worker_seed(self, runner, new_seed: int) -> None:
        loader = runner.train_loop.dataloader
        if getattr(loader, 'num_workers', 0) == 0:
            return
        if getattr(loader, 'persistent_workers', False):
            if not self._warned:
                runner.logger.warning(
                    'EpochSeedHook: persistent dataloader workers keep their '
                    'random state across epochs, so a resumed run will not '
                    'draw the same augmentations as an uninterrupted one. '
                    'Set persistent_workers=False for bit-exact resuming.')
                self._warned = True
            return
        init_fn = loader.worker_init_fn
        if (isinstance(init_fn, functools.partial)
                and init_fn.func is default_worker_init_fn
                and 'seed' in init_fn.keywords):
            # DataLoader reads `worker_init_fn` whenever it starts workers,
            # i.e. at every epoch when they are not persistent.
            loader.worker_init_fn = functools.partial(
                init_fn.func, *init_fn.args,
                **dict(init_fn.keywords, seed=new_seed))
