# Copyright (c) mmieee contributors.
"""What every command-line tool does before and around mmengine's Runner.

``tools/train.py``, ``tools/test.py`` and the analysis / visualisation
tools all read a config, apply ``--work-dir`` / ``--launcher`` /
``--cfg-options``, check what the user can get wrong before anything slow
happens, and build a Runner that also works on a CPU-only machine. Doing it
in one place keeps their behaviour (and their error messages) identical.

User errors (a missing dataset, a misspelt option, a bad value, a
checkpoint that is unsafe or does not fit) are exceptions of known classes;
a tool wraps its ``main`` in :func:`exit_on_user_error` so that they end the
process with ``Error: <message>`` and exit status 2 instead of a traceback.
"""
import contextlib
import os.path as osp
import sys
from typing import Dict, Iterator, Optional, Sequence

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmieee.registry import RUNNERS

from .cfg_options import merge_cfg_options
from .config_check import check_config
from .data_check import DATALOADER_KEYS, check_data_roots
from .distributed import setup_distributed
from .errors import USER_ERRORS, ConfigError
from .load_weights import load_model_weights


def load_tool_config(config: str,
                     cfg_options: Optional[Dict] = None,
                     work_dir: Optional[str] = None,
                     launcher: str = 'none',
                     data_keys: Sequence[str] = DATALOADER_KEYS) -> Config:
    """Read a config and apply the options every tool shares.

    Args:
        config (str): Path of the config file.
        cfg_options (dict, optional): ``--cfg-options`` (dotted keys).
        work_dir (str, optional): ``--work-dir``; default
            ``work_dirs/<config name>`` unless the config sets one.
        launcher (str): ``--launcher``. Defaults to ``'none'``.
        data_keys (Sequence[str]): Dataloaders whose ``data_root`` must
            exist (e.g. only ``('test_dataloader',)`` for testing).

    Returns:
        Config: The config, ready for :func:`build_runner`.

    Raises:
        ConfigError: The file does not exist, an option is refused, or a
            value is invalid (:func:`~.config_check.check_config`).
        DatasetNotFoundError: A dataset folder is missing.
    """
    if not osp.isfile(config):
        raise ConfigError(f'config file {config!r} does not exist')
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    merge_cfg_options(cfg, cfg_options)
    check_config(cfg)
    check_data_roots(cfg, data_keys)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """Set up (CPU-capable) distribution and build the config's Runner.

    Args:
        cfg (Config): From :func:`load_tool_config`.

    Returns:
        Runner: The config's ``runner_type`` built from mmieee's registry
        (``'ReIDRunner'`` in ``configs/_base_/default_runtime.py``: mmengine's
        Runner with the start-up report in the log file only), or
        mmengine's Runner for a config that names none (as
        ``mmpretrain/tools/train.py``).
    """
    setup_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def build_test_runner(cfg: Config, checkpoint: str,
                      strict: bool = True,
                      opt_out: Optional[str] = None) -> Runner:
    """Build the Runner and load ``checkpoint`` into its model for testing.

    Unlike ``load_from`` (which mmengine loads non-strictly), the weights
    are loaded by :func:`~.load_weights.load_model_weights`: a checkpoint
    that leaves model keys missing, has keys the model lacks, holds tensors
    of other shapes or was trained on other modalities is refused before
    any metric is computed.

    Args:
        cfg (Config): From :func:`load_tool_config`.
        checkpoint (str): Checkpoint path or URL.
        strict (bool): False loads what fits and logs the rest
            (``--non-strict``). Defaults to True.
        opt_out (str, optional): The tool's option that loads only what
            fits (``'--non-strict'``), named in the error; None when it has
            none.

    Returns:
        Runner: With the weights loaded; ``runner.test()`` evaluates them.
    """
    cfg.load_from, cfg.resume = None, False
    runner = build_runner(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    load_model_weights(model, checkpoint, strict=strict, opt_out=opt_out)
    return runner


@contextlib.contextmanager
def exit_on_user_error() -> Iterator[None]:
    """End the process with ``Error: <message>`` (status 2) on a user error.

    Caught: the user errors of :mod:`.errors` (``USER_ERRORS``).
    Everything else is a bug or comes from a library and keeps its
    traceback.
    """
    try:
        yield
    except USER_ERRORS as err:
        print(f'Error: {err}', file=sys.stderr)
        sys.exit(2)
