# Copyright (c) mmieee contributors.
"""What plugs into mmengine's Runner: hooks and the Runner itself."""
from .hooks import (EpochSeedHook, NumClassesCheckHook, ReIDCheckpointHook,
                    ReIDVisualizationHook, epoch_seed)
from .runner import ReIDRunner

__all__ = [
    'EpochSeedHook', 'NumClassesCheckHook', 'ReIDCheckpointHook', 'ReIDRunner',
    'ReIDVisualizationHook', 'epoch_seed'
]
