# Copyright (c) mmieee contributors.
"""Shared fixtures of the tools' integration tests.

The tools run as users run them: ``python tools/X.py ...`` in a subprocess
(one torch thread each; the ``tools`` fixture of tests/conftest.py), on a
tiny synthetic RGBNT201-format set (6 training ids, 4 test ids, 2 cameras)
with a tiny IEEE model (ResNet-18 streams at 1/4 width, 64x32 input). The
training run that several test files evaluate is made once per test
session, also under pytest-xdist (the workers share it through a file lock).
"""
from pathlib import Path

import pytest
from filelock import FileLock


@pytest.fixture(scope='session')
def trained_run(shared_dir, tiny_config, tools) -> Path:
    """Work dir of ``tools/train.py tiny_config`` (2 epochs, val each)."""
    work_dir = shared_dir / 'train_run'
    done = shared_dir / 'train_run.done'
    with FileLock(str(shared_dir / 'train_run.lock')):
        if not done.exists():
            tools.run(['tools/train.py', tiny_config, '--work-dir', work_dir])
            done.write_text('ok')
    return work_dir
