# Copyright (c) mmieee contributors.
"""setup_distributed: gloo process group and device-less DDP on CPU."""
import os

import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from mmieee.utils import init_cpu_process_group, setup_distributed
from mmieee.utils.distributed import _set_env_from_slurm


def _cfg(launcher, **extra):
    return Config(dict(launcher=launcher, env_cfg=dict(
        dist_cfg=dict(backend='nccl')), **extra))


def test_no_launcher_changes_nothing():
    cfg = _cfg('none')
    assert setup_distributed(cfg) is False
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg


def test_gpu_machine_is_left_to_mmengine(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _cfg('pytorch')
    assert setup_distributed(cfg) is False
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'


def test_cpu_pytorch_launcher_inits_gloo_and_deviceless_ddp(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for key, value in dict(RANK='0', WORLD_SIZE='1', LOCAL_RANK='0',
                           MASTER_ADDR='127.0.0.1').items():
        monkeypatch.setenv(key, value)
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        monkeypatch.setenv('MASTER_PORT', str(sock.getsockname()[1]))
    assert not torch_dist.is_initialized()
    cfg = _cfg('pytorch',
               model_wrapper_cfg=dict(find_unused_parameters=True))
    try:
        assert setup_distributed(cfg) is True
        assert torch_dist.is_initialized()
        assert torch_dist.get_backend() == 'gloo'
        assert torch_dist.get_world_size() == 1
        assert cfg.env_cfg.dist_cfg.backend == 'gloo'
        assert cfg.model_wrapper_cfg == dict(
            type='MMDistributedDataParallel', device_ids=None,
            find_unused_parameters=True)
        # DDP without device ids wraps a CPU module
        from mmengine.model import MMDistributedDataParallel
        ddp = MMDistributedDataParallel(torch.nn.Linear(2, 2),
                                        device_ids=None)
        assert ddp(torch.ones(1, 2)).shape == (1, 2)
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()


def test_missing_launcher_environment_is_explained(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(KeyError, match='start the script through '
                       'tools/dist_train.sh'):
        init_cpu_process_group('pytorch')
    with pytest.raises(ValueError, match='Invalid launcher'):
        init_cpu_process_group('nope')


def test_slurm_variables_become_env_variables(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('SLURM_PROCID', '5')
    monkeypatch.setenv('SLURM_NTASKS', '8')
    monkeypatch.setenv('SLURM_LOCALID', '1')
    monkeypatch.setenv('MASTER_ADDR', 'node7')  # no scontrol needed
    _set_env_from_slurm()
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'],
            os.environ['LOCAL_RANK'], os.environ['MASTER_ADDR'],
            os.environ['MASTER_PORT']) == ('5', '8', '1', 'node7', '29500')
