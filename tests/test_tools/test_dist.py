# Copyright (c) mmieee contributors.
"""tools/dist_train.sh / dist_test.sh with 2 processes: trains, evaluates,
and its metrics equal the single-process evaluation of its checkpoint (on a
machine without a GPU the processes use gloo on CPU)."""
import json

import pytest

KEYS = ('reid/mAP', 'reid/R1', 'reid/R5', 'reid/R10', 'reid/mINP')


def test_dist_train_then_single_process_test_agree(tools, tiny_config,
                                                   tmp_path):
    work_dir = tmp_path / 'dist'
    env = tools.env()
    env['PORT'] = str(tools.free_port())
    tools.run([
        'bash', 'tools/dist_train.sh', tiny_config, '2', '--work-dir',
        work_dir, '--cfg-options', 'train_cfg.max_epochs=1'
    ], env=env, timeout=300)
    log = sorted(work_dir.glob('*/*.log'))[-1].read_text()
    assert 'world_size: 2' in log or 'Distributed launcher: pytorch' in log
    vals = tools.read_val_metrics(work_dir)
    assert [v['step'] for v in vals] == [1]
    ckpt = work_dir / 'epoch_1.pth'
    assert ckpt.exists()

    out = tmp_path / 'single.json'
    tools.run([
        'tools/test.py', tiny_config, ckpt, '--work-dir', tmp_path / 't',
        '--out', out
    ])
    single = json.loads(out.read_text())
    for key in KEYS:
        assert vals[0][key] == pytest.approx(single[key], abs=1e-4), key


def test_dist_test_equals_logged_single_process_metrics(tools, tiny_config,
                                                        trained_run,
                                                        tmp_path):
    """dist_test.sh (2 processes, uneven shards: 16 samples in batches of
    8) reproduces the validation of the single-process training run."""
    logged = tools.read_val_metrics(trained_run)[-1]
    assert logged['step'] == 2
    env = tools.env()
    env['PORT'] = str(tools.free_port())
    out = tmp_path / 'dist.json'
    tools.run([
        'bash', 'tools/dist_test.sh', tiny_config, trained_run /
        'epoch_2.pth', '2', '--work-dir', tmp_path / 'w', '--out', out
    ], env=env, timeout=300)
    dist = json.loads(out.read_text())
    for key in KEYS:
        assert dist[key] == pytest.approx(logged[key], abs=1e-4), key


def test_user_error_under_torchrun_is_one_message(tools, tiny_config,
                                                  tmp_path):
    """Without data each rank printed the error, then torchrun added its
    traceback and a table of the failed processes (about 60 lines)."""
    env = tools.env()
    env['PORT'] = str(tools.free_port())
    missing = tmp_path / 'nowhere'
    proc = tools.run([
        'bash', 'tools/dist_train.sh', tiny_config, '2', '--work-dir',
        tmp_path / 'w', '--cfg-options',
        f'train_dataloader.dataset.data_root={missing}'
    ], env=env, check=False, timeout=300)
    assert proc.returncode == 2
    err = proc.stderr
    assert err.startswith('Error: RGBNT201 dataset not found'), err[:2000]
    assert err.count('Error') == 1
    assert 'Traceback' not in err and 'ChildFailedError' not in err
    assert len(err.splitlines()) < 15
