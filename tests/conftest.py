# Copyright (c) mmieee contributors.
"""Suite-wide settings and the tiny training set-up several packages use.

One torch thread per test process: the suite runs with one pytest-xdist
worker per core, and the tiny models in the tests are far slower when two
workers each start two threads on two cores (measured: ~5 s instead of ~25 ms
for a ResNet-18 forward under load).

``tiny_files``: a tiny IEEE model (ResNet-18 streams at 1/8 width, 64x32
input) with random weights saved as a checkpoint, and a tiny synthetic
RGBNT201-format set (3 test ids x 2 cameras x 2 samples), for the tests of
the apis, demo and deployment tools that need a model but no training.

``tools``: helpers to run the tools as users run them, ``python tools/X.py``
in a subprocess with the repository importable and one torch thread
(tests/test_tools, tests/test_docs).
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
import torch
from filelock import FileLock
from mmengine.config import Config

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / 'configs' / 'ieee' / 'ieee_r18_1xb16-8e_synthetic-demo.py'
NUM_TRAIN_IDS = 6
NUM_TEST_IDS = 4

TINY_CONFIG = """
_base_ = [{demo!r}]
data_root = {root!r}
model = dict(
    backbone=dict(backbone=dict(base_channels=16, stem_channels=16)),
    neck=dict(in_channels=128, reduce_channels=32, out_channels=16),
    head=dict(num_classes={num_classes}, in_channels=16))
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    dataset=dict(data_root=data_root))
val_dataloader = dict(
    batch_size=8, num_workers=0, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
param_scheduler = dict(milestones=[1])
train_cfg = dict(max_epochs=2, val_interval=1)
default_hooks = dict(logger=dict(interval=1))
randomness = dict(seed=7, deterministic=True)
"""


@pytest.fixture(scope='session')
def shared_dir(tmp_path_factory) -> Path:
    """A folder shared by all xdist workers of this session."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'):
        base = base.parent
    path = base / 'mmieee_tools'
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope='session')
def tiny_config(shared_dir) -> Path:
    """Synthetic data + a config file training the tiny model on it."""
    config = shared_dir / 'tiny_ieee.py'
    with FileLock(str(shared_dir / 'data.lock')):
        if not config.exists():
            from mmieee.testing.synthetic import generate_synthetic_dataset
            generate_synthetic_dataset(
                str(shared_dir / 'data'),
                num_train_ids=NUM_TRAIN_IDS,
                num_test_ids=NUM_TEST_IDS,
                num_cameras=2,
                images_per_id_per_camera=2,
                height=64,
                width=32)
            text = TINY_CONFIG.format(
                demo=str(DEMO_CONFIG),
                root=str(shared_dir / 'data' / 'RGBNT201'),
                num_classes=NUM_TRAIN_IDS)
            tmp = config.with_suffix('.tmp')
            tmp.write_text(text)
            tmp.rename(config)
    return config


@pytest.fixture(scope='session')
def tiny_sizes() -> dict:
    """The size of the tiny synthetic set of ``tiny_config``."""
    return dict(num_train_ids=NUM_TRAIN_IDS, num_test_ids=NUM_TEST_IDS)


#: Overrides that shrink the demo model (feature: 3 x 4 parts x 8 = 96-d).
TINY_MODEL = {
    'model.backbone.backbone.base_channels': 8,
    'model.backbone.backbone.stem_channels': 8,
    'model.neck.in_channels': 64,
    'model.neck.reduce_channels': 16,
    'model.neck.out_channels': 8,
    'model.head.in_channels': 8,
    'model.head.num_classes': 2,
}


def shrunk_demo_config(data_root: str, **overrides) -> Config:
    """The demo config shrunk, on ``data_root``, one process loading."""
    cfg = Config.fromfile(str(DEMO_CONFIG))
    options = dict(TINY_MODEL)
    for split in ('train', 'val', 'test'):
        options[f'{split}_dataloader.dataset.data_root'] = data_root
        options[f'{split}_dataloader.num_workers'] = 0
    options.update(overrides)
    cfg.merge_from_dict(options)
    return cfg


def save_random_weights(cfg: Config, path: Path, seed: int = 0) -> Path:
    """Save a randomly initialised model of ``cfg`` (BN statistics
    perturbed so that they matter) as an mmengine-style checkpoint."""
    from mmieee.apis import init_model
    torch.manual_seed(seed)
    model = init_model(cfg)
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith('running_mean'):
                buf.normal_(0, 0.1)
    torch.save({'state_dict': model.state_dict(),
                'meta': {'cfg': cfg.pretty_text}}, path)
    return path


@pytest.fixture(scope='session')
def tiny_files(tmp_path_factory):
    """``dict(root, config, checkpoint, cfg)``: data, config file, weights."""
    from mmieee.testing.synthetic import generate_synthetic_dataset
    base = tmp_path_factory.mktemp('tiny_apis')
    root = generate_synthetic_dataset(
        str(base / 'data'), num_train_ids=2, num_test_ids=3, num_cameras=2,
        images_per_id_per_camera=2, height=64, width=32)['root']
    cfg = shrunk_demo_config(root)
    config = base / 'tiny_ieee.py'
    cfg.dump(str(config))
    checkpoint = save_random_weights(cfg, base / 'tiny.pth')
    return dict(root=root, config=str(config), checkpoint=str(checkpoint),
                cfg=cfg, base=base)


@pytest.fixture(scope='session')
def tiny_cfg():
    """``tiny_cfg(data_root, **overrides)`` -> the shrunk demo Config, and
    ``tiny_cfg.save_weights(cfg, path, seed)`` (helpers as a fixture: test
    modules cannot import conftest under ``--import-mode=importlib``)."""
    shrunk_demo_config.save_weights = save_random_weights
    return shrunk_demo_config


TOPREID_DEMO_CONFIG = REPO / 'configs' / 'topreid' / \
    'topreid_vit-tiny_1xb32-30e_synthetic-demo.py'

#: Overrides that shrink the TOP-ReID demo model: 16-d, one-layer ViT
#: streams with a 2-camera embedding (feature: 3 x 16 = 48-d).
TINY_TOPREID = {
    'model.backbone.backbone.arch': dict(
        embed_dims=16, num_layers=1, num_heads=2, feedforward_channels=32),
    'model.backbone.backbone.num_cameras': 2,
    'model.neck.in_channels': 16,
    'model.neck.tpm': dict(type='TokenPermutation', num_heads=2,
                           feedforward_channels=32),
    'model.neck.crm': dict(type='ComplementaryReconstruction', num_heads=2,
                           feedforward_channels=32),
    'model.head.branches': dict(tpm=48, cls=48),
    'model.head.num_classes': 2,
}


@pytest.fixture(scope='session')
def tiny_topreid_files(tmp_path_factory):
    """A tiny TOP-ReID model (the demo config shrunk) with random weights on
    a tiny synthetic set (2 cameras): ``dict(root, config, checkpoint,
    cfg)``, for the tests of the tools with camera ids and missing-modality
    reconstruction."""
    from mmieee.testing.synthetic import generate_synthetic_dataset
    base = tmp_path_factory.mktemp('tiny_topreid')
    root = generate_synthetic_dataset(
        str(base / 'data'), num_train_ids=2, num_test_ids=3, num_cameras=2,
        images_per_id_per_camera=2, height=64, width=32)['root']
    cfg = Config.fromfile(str(TOPREID_DEMO_CONFIG))
    options = dict(TINY_TOPREID)
    for split in ('train', 'val', 'test'):
        options[f'{split}_dataloader.dataset.data_root'] = root
        options[f'{split}_dataloader.num_workers'] = 0
    options['train_dataloader.batch_size'] = 4
    options['train_dataloader.sampler.num_instances'] = 2
    cfg.merge_from_dict(options)
    config = base / 'tiny_topreid.py'
    cfg.dump(str(config))
    from mmieee.apis import init_model
    torch.manual_seed(0)
    model = init_model(cfg)
    model.init_weights()  # camera embedding drawn (it starts at zero)
    checkpoint = base / 'tiny_topreid.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'cfg': cfg.pretty_text}}, checkpoint)
    return dict(root=root, config=str(config), checkpoint=str(checkpoint),
                cfg=cfg, base=base)


# ---------------------------------------------------------------------------
# Running the tools as users run them (tests/test_tools, tests/test_docs)
# ---------------------------------------------------------------------------


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
