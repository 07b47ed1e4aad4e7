# Copyright (c) mmieee contributors.
"""Environment shims, safe weight reading and the helpers the command-line
tools share.

The two compat shims (torchvision, checkpoints) are applied by
``import mmieee``; the rest is what ``tools/`` scripts call before and
around mmengine's Runner: ``--cfg-options`` merging, the data-root check,
the (CPU-capable) distributed set-up and ``register_all_modules``.
"""
import warnings

from .cfg_options import merge_cfg_options
from .clip_weights import load_clip_visual_weights
from .config_check import check_config, check_pretrained_files
from .config_text import parse_config_text
from .data_check import check_data_roots, iter_dataset_cfgs
from .distributed import init_cpu_process_group, setup_distributed
from .errors import (USER_ERRORS, CheckpointDownloadError,
                     CheckpointMismatchError, ConfigError,
                     DatasetNotFoundError, NotACheckpointError,
                     OutputWriteError, UnknownKeyError, UnsafeCheckpointError,
                     WorkDirBusyError)
from .load_weights import load_model_weights
from .model_index import list_models, resolve_config, resolve_model
from .official_checkpoint import (check_converted_weights,
                                  load_official_state_dict)
from .output_paths import (check_output_dir, check_output_file,
                           write_rgb_image, writing)
from .safe_checkpoint import load_from_local, patch_mmengine_checkpoint_loader
from .setup_env import register_all_modules
from .speed_options import AMP_DTYPES, apply_speed_options, check_speed_options
from .test_settings import (get_reid_metric_cfg, get_test_dataloader_cfg,
                            get_test_dataset_cfg, get_test_input_size,
                            get_test_pipeline_cfg)
from .tool_args import CONFIG_HELP, add_common_arguments, parse_tool_args
from .tool_setup import (build_runner, build_test_runner, exit_on_user_error,
                         launch_rank, load_tool_config)
from .torchscript_weights import read_torchscript_state_dict
from .torchvision_compat import patch_torchvision_import
from .work_dir_lock import WorkDirLock


def apply_compat_shims() -> None:
    """Apply every environment shim; each is a no-op where not needed."""
    # mmcv-lite (pure Python, what mmieee installs) warns on every run that
    # a CUDA op of the full mmcv is missing; mmieee never uses it.
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    patch_torchvision_import()
    patch_mmengine_checkpoint_loader()


__all__ = [
    'apply_compat_shims', 'load_from_local',
    'patch_mmengine_checkpoint_loader', 'patch_torchvision_import',
    'register_all_modules', 'merge_cfg_options', 'DatasetNotFoundError',
    'check_data_roots', 'iter_dataset_cfgs', 'init_cpu_process_group',
    'setup_distributed', 'ConfigError', 'build_runner',
    'exit_on_user_error', 'load_tool_config', 'CheckpointDownloadError',
    'NotACheckpointError', 'UnsafeCheckpointError', 'CheckpointMismatchError',
    'load_model_weights', 'build_test_runner', 'check_converted_weights',
    'check_config',
    'check_pretrained_files', 'AMP_DTYPES', 'apply_speed_options',
    'check_speed_options', 'USER_ERRORS',
    'get_reid_metric_cfg', 'get_test_dataloader_cfg', 'get_test_dataset_cfg',
    'get_test_input_size', 'get_test_pipeline_cfg', 'parse_config_text',
    'OutputWriteError', 'WorkDirBusyError', 'list_models', 'resolve_config',
    'resolve_model', 'check_output_dir', 'check_output_file', 'writing',
    'write_rgb_image', 'CONFIG_HELP', 'add_common_arguments',
    'parse_tool_args', 'WorkDirLock', 'launch_rank',
    'load_clip_visual_weights', 'read_torchscript_state_dict',
    'UnknownKeyError', 'load_official_state_dict'
]
