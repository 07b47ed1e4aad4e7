# Copyright (c) mmieee contributors.
"""What plugs into mmengine's Runner: hooks, parameter schedulers and the
Runner itself."""
from .hooks import (EpochSeedHook, NumClassesCheckHook, ReIDCheckpointHook,
                    ReIDVisualizationHook, epoch_seed)
from .runner import ReIDRunner
from .schedulers import TimmCosineLR

__all__ = [
    'EpochSeedHook', 'NumClassesCheckHook', 'ReIDCheckpointHook', 'ReIDRunner',
    'ReIDVisualizationHook', 'TimmCosineLR', 'epoch_seed'
]
