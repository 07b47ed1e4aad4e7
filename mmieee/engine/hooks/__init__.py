# Copyright (c) mmieee contributors.
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .num_classes_check_hook import NumClassesCheckHook
from .reid_checkpoint_hook import ReIDCheckpointHook
from .reid_visualization_hook import ReIDVisualizationHook

__all__ = [
    'EpochSeedHook', 'NumClassesCheckHook', 'ReIDCheckpointHook',
    'ReIDVisualizationHook', 'epoch_seed'
]
