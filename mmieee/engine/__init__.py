# Copyright (c) mmieee contributors.
"""What plugs into mmengine's Runner: hooks."""
from .hooks import (EpochSeedHook, NumClassesCheckHook, ReIDVisualizationHook,
                    epoch_seed)

__all__ = [
    'EpochSeedHook', 'NumClassesCheckHook', 'ReIDVisualizationHook',
    'epoch_seed'
]
