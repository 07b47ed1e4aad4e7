# Copyright (c) mmieee contributors.
"""ReIDCheckpointHook: a save that fails midway loses nothing; arguments are
checked when the hook is built."""
import os
from pathlib import Path

import pytest
import torch

import mmieee.utils.atomic_file as atomic_file
from mmieee.engine import ReIDCheckpointHook
from mmieee.utils import build_runner, load_tool_config


def test_unknown_argument_fails_when_built_with_a_suggestion():
    with pytest.raises(TypeError) as err:
        ReIDCheckpointHook(intervall=5)
    msg = str(err.value)
    assert "['intervall']" in msg and "did you mean 'interval'" in msg
    ReIDCheckpointHook(interval=2, max_keep_ckpts=1)  # known ones are fine


def _runner(config, work_dir, resume=False):
    cfg = load_tool_config(
        str(config),
        {
            'train_cfg.max_epochs': 2,
            'default_hooks.checkpoint.max_keep_ckpts': 1,
            'default_hooks.checkpoint.save_best': None,
            'default_hooks.logger.interval': 50,
        },
        work_dir=str(work_dir))
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.resume = resume
    cfg.experiment_name = f'ckpt_hook_{resume}_{os.getpid()}'
    return build_runner(cfg)


def test_save_failing_midway_keeps_the_previous_checkpoint(
        tiny_config, tmp_path, monkeypatch):
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith('epoch_2.pth'):
            raise OSError('disk full (simulated) while saving epoch_2.pth')
        return real_replace(src, dst)

    monkeypatch.setattr(atomic_file.os, 'replace', failing_replace)
    runner = _runner(tiny_config, tmp_path)
    with pytest.raises(OSError, match='simulated'):
        runner.train()
    files = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    # mmengine's CheckpointHook deletes epoch_1.pth before writing
    # epoch_2.pth: here it is kept, complete, and last_checkpoint names it.
    assert 'epoch_1.pth' in files and 'epoch_2.pth' not in files
    assert not [f for f in files if atomic_file.PARTIAL_MARK in f]
    last = (tmp_path / 'last_checkpoint').read_text()
    assert Path(last).name == 'epoch_1.pth'
    assert torch.load(last, map_location='cpu',
                      weights_only=False)['meta']['epoch'] == 1

    monkeypatch.setattr(atomic_file.os, 'replace', real_replace)
    resumed = _runner(tiny_config, tmp_path, resume=True)
    resumed.train()
    assert resumed.epoch == 2
    names = sorted(p.name for p in tmp_path.glob('epoch_*.pth'))
    assert names == ['epoch_2.pth']  # the outdated one deleted afterwards


def test_partial_files_of_killed_saves_are_removed(tiny_config, tmp_path):
    """A save killed midway leaves ``.epoch_N.pth.partial-<pid>`` (a
    dot-file); the next training removes those of processes that are gone
    and keeps those of a running one."""
    import subprocess
    import sys
    gone = subprocess.Popen([sys.executable, '-c', 'pass'])
    gone.wait()
    dead = tmp_path / atomic_file.partial_name('epoch_3.pth', gone.pid)
    dead.write_bytes(b'x' * 1000)
    alive = tmp_path / atomic_file.partial_name('epoch_4.pth', os.getpid())
    alive.write_bytes(b'x')
    runner = _runner(tiny_config, tmp_path)
    hook = next(h for h in runner.hooks
                if isinstance(h, ReIDCheckpointHook))
    hook.before_train(runner)
    assert not dead.exists() and alive.exists()
