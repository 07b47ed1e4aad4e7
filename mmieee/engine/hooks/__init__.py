# Copyright (c) mmieee contributors.
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .num_classes_check_hook import NumClassesCheckHook
from .reid_checkpoint_hook import ReIDCheckpointHook

__all__ = [
    'EpochSeedHook', 'NumClassesCheckHook', 'ReIDCheckpointHook', 'epoch_seed'
]
