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
import os
import os.path as osp
import sys
import time
from typing import Dict, Iterator, Optional, Sequence

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmieee.registry import RUNNERS

from .cfg_options import merge_cfg_options
from .config_check import check_config
from .data_check import DATALOADER_KEYS, check_data_roots
from .distributed import (check_launcher_env, end_process_group,
                          setup_distributed)
from .errors import USER_ERRORS, ConfigError
from .load_weights import load_model_weights
from .model_index import resolve_config


def load_tool_config(config: str,
                     cfg_options: Optional[Dict] = None,
                     work_dir: Optional[str] = None,
                     launcher: str = 'none',
                     data_keys: Sequence[str] = DATALOADER_KEYS,
                     required: Sequence[str] = ('model', )) -> Config:
    """Read a config and apply the options every tool shares.

    Args:
        config (str): Path of the config file, or a model name of
            ``configs/*/metafile.yml``.
        cfg_options (dict, optional): ``--cfg-options`` (dotted keys).
        work_dir (str, optional): ``--work-dir``; default
            ``work_dirs/<config name>`` unless the config sets one.
        launcher (str): ``--launcher``. Defaults to ``'none'``.
        data_keys (Sequence[str]): Dataloaders whose ``data_root`` must
            exist (e.g. only ``('test_dataloader',)`` for testing).
        required (Sequence[str]): Top-level keys the tool needs. Defaults
            to ``('model',)``.

    Returns:
        Config: The config, ready for :func:`build_runner`.

    Raises:
        ConfigError: An unknown model name, a missing file or required
            key, a refused option, or an invalid value
            (:func:`~.config_check.check_config`).
        DatasetNotFoundError: A dataset folder is missing.
    """
    check_launcher_env(launcher)
    path = resolve_config(config)
    if not osp.isfile(path):
        raise ConfigError(f'config file {config!r} does not exist')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as err:
        raise ConfigError(f'{path} is not a valid config: {err}') from err
    missing = [key for key in required if not cfg.get(key)]
    if missing:
        raise ConfigError(
            f'{path} has no {" / ".join(repr(k) for k in missing)}: it is '
            'not an mmieee Re-ID config, or not one for this tool (see '
            'configs/ieee/ieee_r50_1xb8-61e_rgbnt201.py for a complete '
            'one)')
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
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


#: Seconds a rank other than 0 waits before reporting a user error: the
#: same error ends rank 0, which reports it, and the launcher then stops
#: the others, so that a job prints its error once.
REPORT_DELAY_S = 10


def launch_rank() -> int:
    """This process' rank in a multi-process launch (torchrun, srun,
    mpirun), from the launcher's variables; 0 otherwise."""
    for rank_key, size_key in (('RANK', 'WORLD_SIZE'),
                               ('SLURM_PROCID', 'SLURM_NTASKS'),
                               ('OMPI_COMM_WORLD_RANK',
                                'OMPI_COMM_WORLD_SIZE')):
        rank, size = os.environ.get(rank_key), os.environ.get(size_key)
        if rank and size and rank.isdigit() and size.isdigit() and \
                int(size) > 1:
            return int(rank)
    return 0


@contextlib.contextmanager
def exit_on_user_error() -> Iterator[None]:
    """End the process with ``Error: <message>`` (status 2) on a user error.

    Caught: the user errors of :mod:`.errors` (``USER_ERRORS``).
    Everything else is a bug or comes from a library and keeps its
    traceback. In a multi-process launch only rank 0 reports at once; the
    others wait :data:`REPORT_DELAY_S` seconds (the launcher usually stops
    them first, rank 0 having hit the same error) and then report it with
    their rank. On a normal end the process group of a distributed run is
    closed once all ranks are done (:func:`.distributed.end_process_group`).
    """
    try:
        yield
        end_process_group()
    except USER_ERRORS as err:
        rank = launch_rank()
        if rank == 0:
            print(f'Error: {err}', file=sys.stderr)
        else:
            time.sleep(REPORT_DELAY_S)
            print(f'Error (rank {rank}): {err}', file=sys.stderr)
        sys.stderr.flush()
        sys.exit(2)
