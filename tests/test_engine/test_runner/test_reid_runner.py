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
