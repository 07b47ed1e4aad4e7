# Copyright (c) mmieee contributors.
"""setup_distributed: gloo process group and device-less DDP on CPU."""
import os

import pytest
import torch
import torch.distributed as torch_dist
from mmengine.config import Config

from mmieee.utils import ConfigError, init_cpu_process_group, setup_distributed
from mmieee.utils.distributed import _set_env_from_slurm


@pytest.fixture(autouse=True)
def restore_environment():
    """The set-up writes torch's env:// variables into ``os.environ``;
    ``monkeypatch.delenv`` of an absent key does not undo that, and a
    leaked ``MASTER_ADDR=node1`` made the tools' torchrun tests of the same
    pytest worker wait for a host that does not exist."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


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
    for key, value in dict(RANK='0', WORLD_SIZE='1', MASTER_ADDR='x',
                           MASTER_PORT='1').items():
        monkeypatch.setenv(key, value)
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
    with pytest.raises(ConfigError, match='--launcher pytorch needs the '
                       'environment variables RANK, WORLD_SIZE, MASTER_ADDR, '
                       'MASTER_PORT, which are not set: start the tool '
                       'through tools/dist_train.sh'):
        init_cpu_process_group('pytorch')
    with pytest.raises(ConfigError, match="--launcher 'nope': expected one"):
        init_cpu_process_group('nope')


def _slurm_env(monkeypatch, tmp_path, scontrol=None):
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_PORT',
                'MASTER_ADDR'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('SLURM_PROCID', '0')
    monkeypatch.setenv('SLURM_NTASKS', '2')
    monkeypatch.setenv('SLURM_NODELIST', 'node[1-2]')
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    if scontrol is not None:
        script = bin_dir / 'scontrol'
        script.write_text(f'#!/bin/sh\n{scontrol}\n')
        script.chmod(0o755)
    monkeypatch.setenv('PATH', str(bin_dir))


def test_slurm_without_scontrol_or_master_addr_names_both(
        monkeypatch, tmp_path):
    """Before: the shell's "scontrol: not found" became MASTER_ADDR and
    the process group retried it until the timeout."""
    import time
    _slurm_env(monkeypatch, tmp_path)
    start = time.time()
    with pytest.raises(ConfigError) as err:
        setup_distributed(_cfg('slurm'))
    msg = str(err.value)
    assert 'MASTER_ADDR' in msg and 'scontrol' in msg and 'node[1-2]' in msg
    assert time.time() - start < 5
    assert not torch_dist.is_initialized()


def test_slurm_scontrol_failure_is_an_error(monkeypatch, tmp_path):
    _slurm_env(monkeypatch, tmp_path,
               scontrol='echo "slurm_load_node: Unable to contact" >&2; '
               'exit 1')
    with pytest.raises(ConfigError, match='scontrol show hostnames '
                       r'node\[1-2\] failed \(exit 1: slurm_load_node'):
        setup_distributed(_cfg('slurm'))


def test_slurm_first_node_from_scontrol(monkeypatch, tmp_path):
    _slurm_env(monkeypatch, tmp_path, scontrol='echo node1; echo node2')
    _set_env_from_slurm()
    assert os.environ['MASTER_ADDR'] == 'node1'


def test_missing_variables_are_refused_on_gpu_machines_too(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ConfigError, match='RANK'):
        setup_distributed(_cfg('pytorch'))


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


_FROZEN_RANK = '''
import os, sys, time
import torch, torch.distributed as dist
from mmieee.utils import init_cpu_process_group
init_cpu_process_group('pytorch', timeout=float(sys.argv[1]))
if dist.get_rank() == 1:
    time.sleep(60)  # frozen: never reaches the collective
    sys.exit(0)
start = time.time()
try:
    dist.all_reduce(torch.ones(1))
except RuntimeError as err:
    print(f'rank 0 gave up after {time.time() - start:.0f} s: {err}')
    sys.exit(3)
'''


def test_frozen_rank_ends_the_job_after_the_collective_timeout(tmp_path):
    """env_cfg.dist_cfg.timeout reaches the process group: rank 0 stops
    waiting for a frozen rank 1 instead of torch's 30 minutes."""
    import socket
    import subprocess
    import sys
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = str(sock.getsockname()[1])
    script = tmp_path / 'frozen.py'
    script.write_text(_FROZEN_RANK)
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE='2',
                   LOCAL_RANK=str(rank), MASTER_ADDR='127.0.0.1',
                   MASTER_PORT=port)
        procs.append(subprocess.Popen(
            [sys.executable, str(script), '3'], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    try:
        out, _ = procs[0].communicate(timeout=50)
    finally:
        procs[1].kill()
        procs[1].wait()
    assert procs[0].returncode == 3, out
    assert 'rank 0 gave up after' in out


def test_default_runtime_sets_a_collective_timeout():
    from pathlib import Path
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[2] /
                              'configs' / '_base_' / 'default_runtime.py'))
    assert 60 <= cfg.env_cfg.dist_cfg.timeout <= 3600


_ENDING_RANKS = '''
import sys, time
import torch.distributed as dist
from mmieee.utils import init_cpu_process_group
from mmieee.utils.tool_setup import exit_on_user_error
init_cpu_process_group('pytorch', timeout=30.0)
with exit_on_user_error():
    if dist.get_rank() == 0:
        time.sleep(2)  # rank 0 still writing its results
print(f'left at {time.time():.3f}', flush=True)
assert not dist.is_initialized()
'''


def test_a_normal_end_waits_for_every_rank_then_closes_the_group(tmp_path):
    """A rank that closed its gloo group while rank 0 was still busy made
    the job abort now and then (SIGABRT after the metrics): on a normal
    end each rank leaves only when all are done, with the group closed."""
    import socket
    import subprocess
    import sys
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = str(sock.getsockname()[1])
    script = tmp_path / 'ending.py'
    script.write_text(_ENDING_RANKS)
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE='2',
                   LOCAL_RANK=str(rank), MASTER_ADDR='127.0.0.1',
                   MASTER_PORT=port)
        procs.append(subprocess.Popen(
            [sys.executable, str(script)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    left = [float(o.split('left at ')[1].split()[0]) for o in outs]
    # rank 1 had nothing to do but waited for rank 0's two seconds
    assert abs(left[1] - left[0]) < 1.0, left


def test_a_user_error_does_not_wait_for_the_other_ranks(monkeypatch):
    """After an error the other ranks may never arrive: no barrier then
    (the group is left to the exit handler)."""
    from mmieee.utils import distributed
    from mmieee.utils.tool_setup import exit_on_user_error
    calls = []
    monkeypatch.setattr(distributed.torch_dist, 'is_initialized',
                        lambda: True)
    monkeypatch.setattr(distributed.torch_dist, 'barrier',
                        lambda: calls.append('barrier'))
    monkeypatch.setattr(distributed.torch_dist, 'destroy_process_group',
                        lambda: calls.append('destroy'))
    with pytest.raises(SystemExit) as exit_info, exit_on_user_error():
        raise ConfigError('bad key')
    assert exit_info.value.code == 2 and calls == []
    with exit_on_user_error():
        pass
    assert calls == ['barrier', 'destroy']
