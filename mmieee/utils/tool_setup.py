# Copyright (c) mmieee contributors.
"""What every command-line tool does before and around mmengine's Runner.

``tools/train.py``, ``tools/test.py`` and the analysis / visualisation
tools all read a config, apply ``--work-dir`` / ``--launcher`` /
``--cfg-options``, check what the user can get wrong before anything slow
happens, and build a Runner that also works on a CPU-only machine. Doing it
in one place keeps their behaviour (and their error messages) identical.

User errors (a missing dataset, a misspelt option, a bad value) are
:class:`ConfigError` or :class:`~.data_check.DatasetNotFoundError`; a tool
wraps its ``main`` in :func:`exit_on_user_error` so that they end the
process with ``Error: <message>`` and exit status 2 instead of a traceback.
"""
import contextlib
import os.path as osp
import sys
from typing import Dict, Iterator, Optional, Sequence

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .cfg_options import ConfigError, merge_cfg_options
from .data_check import DATALOADER_KEYS, DatasetNotFoundError, check_data_roots
from .distributed import setup_distributed


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
        ConfigError: The file does not exist or an option is refused.
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
    check_data_roots(cfg, data_keys)
    return cfg


def build_runner(cfg: Config) -> Runner:
    """Set up (CPU-capable) distribution and build the config's Runner.

    Args:
        cfg (Config): From :func:`load_tool_config`.

    Returns:
        Runner: ``RUNNERS.build(cfg)`` when the config names a
        ``runner_type``, else :meth:`Runner.from_cfg`.
    """
    setup_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


@contextlib.contextmanager
def exit_on_user_error() -> Iterator[None]:
    """End the process with ``Error: <message>`` (status 2) on a user error.

    Only :class:`ConfigError` and :class:`DatasetNotFoundError` are caught:
    everything else is a bug or comes from a library and keeps its
    traceback.
    """
    try:
        yield
    except (ConfigError, DatasetNotFoundError) as err:
        print(f'Error: {err}', file=sys.stderr)
        sys.exit(2)
