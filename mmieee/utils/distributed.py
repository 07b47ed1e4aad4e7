# Copyright (c) mmieee contributors.
"""Distributed set-up that also works on machines without a GPU.

Why: mmengine's ``init_dist`` calls ``torch.cuda.set_device(local_rank)``
before creating the process group, and its default model wrapper passes
``device_ids=[local_rank]`` to DistributedDataParallel; both fail on a CPU
machine. When there is no GPU we create the (gloo) process group ourselves
from the launcher's environment variables — mmengine then sees an initialised
group and skips ``init_dist`` — and ask for the DDP wrapper without device
ids.
With a GPU nothing is changed and mmengine does the usual NCCL set-up.

Either way the launcher's environment is checked first
(:func:`check_launcher_env`): a tool started with ``--launcher pytorch``
outside torchrun, or ``--launcher slurm`` outside a Slurm job, stops with a
:class:`~.errors.ConfigError` naming the missing variables, and Slurm's
first node comes from ``scontrol`` only when that command exists and
answers (otherwise the error asks for ``MASTER_ADDR``) instead of the
shell's error text becoming the master address.
"""
import atexit
import datetime
import os
import shutil
import subprocess
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from .errors import ConfigError

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


#: What each launcher sets in the environment (and mmieee reads).
LAUNCHER_VARIABLES = {
    'pytorch': ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'),
    'slurm': ('SLURM_PROCID', 'SLURM_NTASKS'),
    'mpi': ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE'),
}
_STARTED_BY = {
    'pytorch': 'tools/dist_train.sh / tools/dist_test.sh (torchrun)',
    'slurm': 'srun (tools/slurm_train.sh)',
    'mpi': 'mpirun',
}


def _first_slurm_node(node_list: str) -> str:
    """The first host of a Slurm node list, from ``scontrol``.

    Raises:
        ConfigError: ``scontrol`` is missing or fails (the message names the
            command and says how to set ``MASTER_ADDR`` instead).
    """
    command = ['scontrol', 'show', 'hostnames', node_list]
    advice = ('set MASTER_ADDR to the first node of the job, or start the '
              'tool with srun on a machine that has scontrol')
    if shutil.which('scontrol') is None:
        raise ConfigError(
            '--launcher slurm without MASTER_ADDR needs the scontrol command '
            f'to find the first node of SLURM_NODELIST={node_list!r}, and '
            f'scontrol is not on PATH: {advice}.')
    try:
        proc = subprocess.run(command, capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ConfigError(f'{" ".join(command)} failed ({err}): '
                          f'{advice}.') from err
    hosts = proc.stdout.split()
    if proc.returncode != 0 or not hosts:
        raise ConfigError(
            f'{" ".join(command)} failed (exit {proc.returncode}: '
            f'{proc.stderr.strip() or "no host printed"}): {advice}.')
    return hosts[0]


def check_launcher_env(launcher: str) -> None:
    """Refuse a launcher whose environment variables are missing.

    Args:
        launcher (str): ``--launcher``.

    Raises:
        ConfigError: An unknown launcher, or variables the launcher sets
            are missing or not integers (the message names them and how
            the tool must be started).
    """
    if launcher == 'none':
        return
    if launcher not in LAUNCHER_VARIABLES:
        raise ConfigError(f'--launcher {launcher!r}: expected one of '
                          f'{LAUNCHERS}')
    needed = list(LAUNCHER_VARIABLES[launcher])
    if launcher == 'slurm' and 'MASTER_ADDR' not in os.environ:
        needed.append('SLURM_NODELIST')
    missing = [k for k in needed if k not in os.environ]
    if missing:
        raise ConfigError(
            f'--launcher {launcher} needs the environment variables '
            f'{", ".join(missing)}, which are not set: start the tool '
            f'through {_STARTED_BY[launcher]}, or use --launcher none.')
    for key in needed[:2]:
        if not os.environ[key].strip().isdigit():
            raise ConfigError(f'--launcher {launcher}: {key}='
                              f'{os.environ[key]!r} is not a number')


def _set_env_from_slurm() -> None:
    """Translate SLURM's variables into torch's ``env://`` variables."""
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        os.environ['MASTER_ADDR'] = _first_slurm_node(
            os.environ['SLURM_NODELIST'])
    os.environ['RANK'] = str(proc_id)
    os.environ['WORLD_SIZE'] = str(ntasks)
    os.environ.setdefault('LOCAL_RANK',
                          os.environ.get('SLURM_LOCALID', '0'))


def _set_env_from_mpi() -> None:
    """Translate Open MPI's variables into torch's ``env://`` variables."""
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ.setdefault('LOCAL_RANK',
                          os.environ.get('OMPI_COMM_WORLD_LOCAL_RANK', '0'))
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29500')


def prepare_launcher_env(launcher: str) -> None:
    """Check the launcher's variables and derive torch's ``env://`` ones.

    Raises:
        ConfigError: See :func:`check_launcher_env`; for Slurm without
            ``MASTER_ADDR``, also when ``scontrol`` cannot name the first
            node.
    """
    check_launcher_env(launcher)
    if launcher == 'slurm':
        _set_env_from_slurm()
    elif launcher == 'mpi':
        _set_env_from_mpi()


def init_cpu_process_group(launcher: str,
                           timeout: Optional[float] = None) -> None:
    """Create a gloo process group from the launcher's environment.

    Args:
        launcher (str): ``'pytorch'`` (torchrun / ``torch.distributed.run``:
            ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``),
            ``'slurm'`` or ``'mpi'``.
        timeout (float, optional): Seconds before a collective times out.

    Raises:
        ConfigError: An unknown launcher, or its environment variables are
            missing (the script was not started by that launcher).
    """
    if launcher == 'none':
        raise ConfigError('init_cpu_process_group needs a launcher, got '
                          "'none'")
    prepare_launcher_env(launcher)
    check_launcher_env('pytorch')
    kwargs = {}
    if timeout is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
    torch_dist.init_process_group(
        backend='gloo',
        init_method='env://',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)
    # A gloo group left to interpreter shutdown aborts the process now and
    # then ("terminate called without an active exception", exit -6) after
    # the job has finished: destroy it while Python is still intact. A tool
    # that ends normally does so earlier, with end_process_group.
    atexit.register(_destroy_process_group)


def _destroy_process_group() -> None:
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def end_process_group() -> None:
    """Close the process group once every rank has finished its work.

    Why the barrier: a rank that destroys its gloo group while another is
    still finishing (rank 0 writing its results) closes the connections
    under it, and about one run in ten of ``tools/dist_test.sh`` on two CPU
    processes then ended with ``terminate called without an active
    exception`` (SIGABRT) after printing its metrics. Call it only on a
    normal end: after an error the other ranks may never reach the
    barrier. Nothing happens without a process group.
    """
    if torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def setup_distributed(cfg: Config) -> bool:
    """Prepare ``cfg`` (and the process group) for a distributed run.

    Call it after ``cfg.launcher`` is set and before building the Runner.
    Nothing happens for ``launcher='none'`` or when CUDA is available.
    Otherwise the gloo process group is created here, ``env_cfg.dist_cfg``
    records ``backend='gloo'`` and ``model_wrapper_cfg`` becomes
    ``MMDistributedDataParallel`` with ``device_ids=None`` (keys the config
    already sets in ``model_wrapper_cfg`` are kept).

    Args:
        cfg (Config): The full config; reads ``launcher`` and
            ``env_cfg.dist_cfg.timeout``.

    Returns:
        bool: True if the CPU (gloo) set-up was applied.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return False
    if not torch_dist.is_initialized():
        # also for mmengine's GPU set-up, which would fail on the missing
        # variables with a KeyError (or, for Slurm, take the shell's error
        # text for the master address and retry until the timeout)
        prepare_launcher_env(launcher)
    if torch.cuda.is_available():
        return False
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        init_cpu_process_group('pytorch', timeout=dist_cfg.get('timeout'))
    wrapper = dict(type='MMDistributedDataParallel')
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True
