# Copyright (c) mmieee contributors.
"""ReIDRunner: the start-up report goes to the log file, not the console."""
import logging
import os

from mmieee.engine import ReIDRunner
from mmieee.utils import build_runner, load_tool_config


def test_environment_config_and_hooks_only_in_the_log_file(
        tiny_config, tmp_path, capsys):
    cfg = load_tool_config(str(tiny_config), work_dir=str(tmp_path))
    cfg.experiment_name = f'reid_runner_{os.getpid()}'
    runner = build_runner(cfg)
    assert isinstance(runner, ReIDRunner)
    console = capsys.readouterr().out
    log_file = next(h.baseFilename for h in runner.logger.handlers
                    if isinstance(h, logging.FileHandler))
    log = open(log_file).read()
    for block in ('System environment:', 'Config:',
                  'Hooks will be executed in the following order'):
        assert block in log
        assert block not in console
    assert 'Environment, config and hook order: see' in console
    assert len(console.splitlines()) < 5
    # later messages reach the console as usual
    runner.logger.info('a message after start-up')
    assert 'a message after start-up' in capsys.readouterr().out


def test_deterministic_randomness_turns_on_deterministic_attention(
        tiny_config, tmp_path, monkeypatch):
    """randomness.deterministic=True (tiny_config sets it): deterministic
    algorithms on, the cuBLAS workspace they need set, and ViT attention
    through the math kernel on a GPU (mocked here)."""
    from unittest import mock

    import torch
    from torch.nn.attention import SDPBackend

    from mmieee.models.backbones.reid_vit import deterministic_attention
    monkeypatch.delenv('CUBLAS_WORKSPACE_CONFIG', raising=False)
    cfg = load_tool_config(str(tiny_config), work_dir=str(tmp_path))
    assert cfg.randomness.deterministic
    cfg.experiment_name = f'reid_runner_det_{os.getpid()}'
    try:
        build_runner(cfg)
        assert torch.are_deterministic_algorithms_enabled()
        assert os.environ['CUBLAS_WORKSPACE_CONFIG'] == ':4096:8'
        with mock.patch('torch.cuda.is_available', return_value=True), \
                mock.patch('torch.nn.attention.sdpa_kernel') as kernel:
            deterministic_attention()
        kernel.assert_called_once_with(SDPBackend.MATH)
    finally:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
