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
"""
import atexit
import datetime
import os
import subprocess
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def _set_env_from_slurm() -> None:
    """Translate SLURM's variables into torch's ``env://`` variables."""
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
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


def init_cpu_process_group(launcher: str,
                           timeout: Optional[float] = None) -> None:
    """Create a gloo process group from the launcher's environment.

    Args:
        launcher (str): ``'pytorch'`` (torchrun / ``torch.distributed.run``:
            ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``),
            ``'slurm'`` or ``'mpi'``.
        timeout (float, optional): Seconds before a collective times out.

    Raises:
        ValueError: If ``launcher`` is not one of the three.
        KeyError: If the launcher's environment variables are missing (the
            script was not started by that launcher).
    """
    if launcher == 'slurm':
        _set_env_from_slurm()
    elif launcher == 'mpi':
        _set_env_from_mpi()
    elif launcher != 'pytorch':
        raise ValueError(f'Invalid launcher "{launcher}"; expected one of '
                         f'{LAUNCHERS[1:]}.')
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise KeyError(
            f'--launcher {launcher} needs the environment variables '
            f'{missing}, which are not set: start the script through '
            'tools/dist_train.sh / tools/dist_test.sh (torchrun), srun or '
            'mpirun, or use --launcher none.')
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
    # the job has finished: destroy it while Python is still intact.
    atexit.register(_destroy_process_group)


def _destroy_process_group() -> None:
    if torch_dist.is_initialized():
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
    if launcher == 'none' or torch.cuda.is_available():
        return False
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        init_cpu_process_group(launcher, timeout=dist_cfg.get('timeout'))
    wrapper = dict(type='MMDistributedDataParallel')
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True
