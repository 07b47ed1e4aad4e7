# Copyright (c) mmieee contributors.
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .num_classes_check_hook import NumClassesCheckHook

__all__ = ['EpochSeedHook', 'NumClassesCheckHook', 'epoch_seed']
