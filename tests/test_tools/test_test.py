# Copyright (c) mmieee contributors.
"""tools/test.py: re-evaluating the best checkpoint reproduces the metrics
logged during training; --out and --dump files."""
import json
import os
import pickle

import numpy as np
import pytest

KEYS = ('reid/mAP', 'reid/R1', 'reid/R5', 'reid/R10', 'reid/R20',
        'reid/mINP')


def test_best_checkpoint_reproduces_logged_metrics(tools, tiny_config,
                                                   trained_run, tmp_path):
    best = tools.best_checkpoint(trained_run)
    logged = {
        v['step']: v for v in tools.read_val_metrics(trained_run)
    }[tools.best_epoch(best)]
    out, dump = tmp_path / 'metrics.json', tmp_path / 'feats.pkl'
    tools.run([
        'tools/test.py', tiny_config, best, '--work-dir', tmp_path / 'w',
        '--out', out, '--dump', dump
    ])
    metrics = json.loads(out.read_text())
    for key in KEYS:
        # scalars.json stores the logged value rounded by the logger
        assert metrics[key] == pytest.approx(logged[key], abs=1e-4), key

    with open(dump, 'rb') as f:
        feats = pickle.load(f)
    n = tools.num_test_ids * 2 * 2  # ids x cameras x images per camera
    # 3 modalities x 4 parts x 16 channels (the tiny model)
    assert feats['feats'].shape == (n, 3 * 4 * 16)
    assert feats['feats'].dtype == np.float32
    assert feats['pids'].tolist() == sorted(feats['pids'].tolist())
    assert len(set(feats['pids'].tolist())) == tools.num_test_ids
    assert set(feats['camids'].tolist()) == {0, 1}
    assert feats['is_query'].all() and feats['is_gallery'].all()
    assert len(feats['img_paths']) == n and len(feats['img_paths'][0]) == 3
    assert 'sceneids' not in feats  # RGBNT201 has no scenes


def test_dumped_features_give_the_same_map(tools, tiny_config, trained_run,
                                           tmp_path):
    """The dump holds what the metric saw: re-evaluating it with the
    functional evaluator gives the tool's mAP."""
    from mmieee.evaluation.functional import evaluate_rank
    best = tools.best_checkpoint(trained_run)
    out, dump = tmp_path / 'm.json', tmp_path / 'f.pkl'
    tools.run([
        'tools/test.py', tiny_config, best, '--work-dir', tmp_path / 'w',
        '--out', out, '--dump', dump
    ])
    with open(dump, 'rb') as f:
        d = pickle.load(f)
    x = d['feats'].astype(np.float64)
    dist = ((x[:, None, :] - x[None, :, :])**2).sum(-1)
    res = evaluate_rank(dist, d['pids'], d['pids'], d['camids'],
                        d['camids'])
    metrics = json.loads(out.read_text())
    assert 100 * res['mAP'] == pytest.approx(metrics['reid/mAP'], abs=1e-3)


def test_missing_checkpoint_is_reported(tools, tiny_config, tmp_path):
    proc = tools.run(
        ['tools/test.py', tiny_config, tmp_path / 'none.pth'],
        check=False, timeout=120)
    assert proc.returncode != 0
    assert 'none.pth' in proc.stderr and 'does not exist' in proc.stderr


def test_checkpoint_of_another_architecture_stops_before_metrics(
        tools, tiny_config, trained_run, tmp_path):
    """Smaller part embeddings: every part FC and classifier mis-shaped."""
    best = tools.best_checkpoint(trained_run)
    other = ['--cfg-options', 'model.neck.out_channels=8',
             'model.head.in_channels=8']
    proc = tools.run(['tools/test.py', tiny_config, best, '--work-dir',
                      tmp_path / 'w'] + other, check=False, timeout=180)
    assert proc.returncode == 2
    assert 'Error: checkpoint' in proc.stderr and str(best) in proc.stderr
    assert 'keys with another shape' in proc.stderr
    assert 'reid/mAP:' not in proc.stdout + proc.stderr  # no metric line
    proc = tools.run(['tools/test.py', tiny_config, best, '--work-dir',
                      tmp_path / 'w2', '--non-strict'] + other,
                     timeout=180)
    assert 'keys with another shape' in proc.stdout + proc.stderr
    assert 'reid/mAP:' in proc.stdout


def test_dataset_in_another_modality_order_is_refused(tools, tiny_config,
                                                      trained_run, tmp_path):
    best = tools.best_checkpoint(trained_run)
    proc = tools.run([
        'tools/test.py', tiny_config, best, '--work-dir', tmp_path / 'w',
        '--cfg-options', 'test_dataloader.dataset.modalities=[TI,NI,RGB]'
    ], check=False, timeout=180)
    assert proc.returncode == 2
    assert "test_dataloader.dataset.modalities=('TI', 'NI', 'RGB') differs " \
        "from model.modalities=('RGB', 'NI', 'TI')" in proc.stderr


def test_checkpoints_record_the_model_modalities(trained_run):
    import torch
    ckpt = torch.load(trained_run / 'epoch_2.pth', map_location='cpu',
                      weights_only=False)
    assert ckpt['meta']['modalities'] == ['RGB', 'NI', 'TI']


def test_other_number_of_training_ids_evaluates_the_same(
        tools, tiny_config, trained_run, tmp_path):
    """Cross-dataset evaluation: a head for another number of training
    identities differs only in keys the test feature does not use; they
    are reported in one line and the metrics are those of the checkpoint.
    """
    ckpt = trained_run / 'epoch_2.pth'
    out = tmp_path / 'm.json'
    proc = tools.run(['tools/test.py', tiny_config, ckpt, '--work-dir',
                      tmp_path / 'w', '--out', out, '--cfg-options',
                      f'model.head.num_classes={tools.num_train_ids + 3}'],
                     timeout=180)
    log = proc.stdout + proc.stderr
    # 3 modalities x 4 parts classifiers, weight and bias each
    assert 'training-only keys differ (24 mismatched: ' \
        'head.classifiers.0.0.weight' in log
    metrics = json.loads(out.read_text())
    logged = tools.read_val_metrics(trained_run)[-1]
    assert logged['step'] == 2
    for key in ('reid/mAP', 'reid/R1', 'reid/R5'):
        assert metrics[key] == pytest.approx(logged[key], abs=1e-4)


@pytest.mark.parametrize('option', ['--out', '--dump'])
def test_output_paths_are_checked_before_the_evaluation(
        tools, tiny_config, trained_run, tmp_path, option):
    best = tools.best_checkpoint(trained_run)
    folder = tmp_path / 'results.json'
    folder.mkdir()
    proc = tools.run(['tools/test.py', tiny_config, best, option, folder],
                     check=False, timeout=120)
    assert proc.returncode == 2
    assert f'Error: {option} {folder} is a folder' in proc.stderr
    assert 'reid/mAP' not in proc.stdout + proc.stderr
    blocked = tmp_path / 'file'
    blocked.write_text('')
    proc = tools.run(['tools/test.py', tiny_config, best, option,
                      blocked / 'sub' / 'x.pkl'], check=False, timeout=120)
    assert proc.returncode == 2
    assert f'Error: {option} {blocked / "sub" / "x.pkl"}: cannot write' \
        in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_disk_full_names_the_file(tools, tiny_config, trained_run,
                                  tmp_path):
    """/dev/full: every write fails with ENOSPC, as on a full disk."""
    if not os.path.exists('/dev/full'):
        pytest.skip('no /dev/full')
    out = tmp_path / 'metrics.json'
    out.symlink_to('/dev/full')
    proc = tools.run(['tools/test.py', tiny_config,
                      tools.best_checkpoint(trained_run), '--work-dir',
                      tmp_path / 'w', '--out', out], check=False, timeout=180)
    assert proc.returncode == 2
    assert f'Error: could not write {out}: No space left on device' \
        in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_model_name_is_accepted_as_the_config(tools, trained_run, tmp_path):
    """tools/test.py refused metafile names (only init_model took them)."""
    missing = tmp_path / 'nowhere'
    proc = tools.run(['tools/test.py', 'ieee_r18_1xb16-8e_synthetic-demo',
                      trained_run / 'epoch_2.pth', '--cfg-options',
                      f'test_dataloader.dataset.data_root={missing}'],
                     check=False, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith('Error: RGBNT201 dataset not found: '
                                  'test_dataloader.dataset.data_root')
