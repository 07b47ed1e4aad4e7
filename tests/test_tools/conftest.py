# Copyright (c) mmieee contributors.
"""Shared fixtures of the tools' integration tests.

The tools run as users run them: ``python tools/X.py ...`` in a subprocess
(one torch thread each, see tests/conftest.py), on a tiny synthetic
RGBNT201-format set (6 training ids, 4 test ids, 2 cameras) with a tiny
IEEE model (ResNet-18 streams at 1/4 width, 64x32 input). The training run
that several test files evaluate is made once per test session, also under
pytest-xdist (the workers share it through a file lock).
"""
import json
import os
import os.path as osp
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Sequence

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[2]


def tool_env() -> Dict[str, str]:
    """Environment of a tool subprocess: the repo importable, 1 thread."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(REPO)] + [p for p in [env.get('PYTHONPATH')] if p])
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHON=sys.executable)
    return env


def run_tool(args: Sequence[str], timeout: float = 240,
             check: bool = True, env=None) -> subprocess.CompletedProcess:
    """Run ``args`` (``tools/...`` first, or ``bash tools/...``) from the repo.

    A ``.py`` first argument runs with the test's Python interpreter. On an
    unexpected exit status the assertion shows the end of stdout / stderr.
    """
    args = [str(a) for a in args]
    if args[0].endswith('.py'):
        args = [sys.executable] + args
    proc = subprocess.run(
        args,
        cwd=REPO,
        env=env or tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout)
    if check:
        assert proc.returncode == 0, (
            f'{" ".join(args)} exited with {proc.returncode}\n'
            f'--- stdout ---\n{proc.stdout[-4000:]}\n'
            f'--- stderr ---\n{proc.stderr[-4000:]}')
    return proc


def free_port() -> int:
    """A TCP port that is free now (for torchrun's rendezvous)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def read_val_metrics(work_dir: Path) -> List[dict]:
    """Validation metrics logged by a run, one dict per evaluation."""
    scalars = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    assert scalars, f'no scalars.json under {work_dir}'
    rows = [json.loads(line) for line in scalars[-1].read_text().splitlines()]
    return [r for r in rows if 'reid/mAP' in r]


@pytest.fixture(scope='session')
def trained_run(shared_dir, tiny_config) -> Path:
    """Work dir of ``tools/train.py tiny_config`` (2 epochs, val each)."""
    work_dir = shared_dir / 'train_run'
    done = shared_dir / 'train_run.done'
    with FileLock(str(shared_dir / 'train_run.lock')):
        if not done.exists():
            run_tool(['tools/train.py', tiny_config, '--work-dir', work_dir])
            done.write_text('ok')
    return work_dir


def best_checkpoint(work_dir: Path) -> Path:
    """The ``best_reid_mAP_epoch_*.pth`` file of a run."""
    best = sorted(Path(work_dir).glob('best_reid_mAP_epoch_*.pth'))
    assert len(best) == 1, f'expected one best checkpoint, got {best}'
    return best[0]


def best_epoch(path: Path) -> int:
    """Epoch of a ``best_reid_mAP_epoch_<n>.pth`` file."""
    return int(osp.splitext(path.name)[0].rsplit('_', 1)[1])


class ToolHelpers:
    """The helpers above, handed to tests by the ``tools`` fixture (test
    modules cannot import conftest under ``--import-mode=importlib``)."""
    repo = REPO
    env = staticmethod(tool_env)
    run = staticmethod(run_tool)
    free_port = staticmethod(free_port)
    read_val_metrics = staticmethod(read_val_metrics)
    best_checkpoint = staticmethod(best_checkpoint)
    best_epoch = staticmethod(best_epoch)


@pytest.fixture(scope='session')
def tools(tiny_sizes) -> ToolHelpers:
    """Helpers to run the tools and read their outputs."""
    helpers = ToolHelpers()
    helpers.num_train_ids = tiny_sizes['num_train_ids']
    helpers.num_test_ids = tiny_sizes['num_test_ids']
    return helpers
