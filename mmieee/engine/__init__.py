# Copyright (c) mmieee contributors.
from .cfg_options import merge_cfg_options
from .data_check import (DatasetNotFoundError, check_data_roots,
                         iter_dataset_cfgs)
from .distributed import init_cpu_process_group, setup_distributed
from .hooks import EpochSeedHook, NumClassesCheckHook, epoch_seed

__all__ = [
    'DatasetNotFoundError', 'check_data_roots', 'init_cpu_process_group',
    'iter_dataset_cfgs', 'merge_cfg_options', 'setup_distributed',
    'EpochSeedHook', 'NumClassesCheckHook', 'epoch_seed'
]
