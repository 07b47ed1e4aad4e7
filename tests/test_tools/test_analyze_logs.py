# Copyright (c) mmieee contributors.
"""tools/analysis_tools/analyze_logs.py on the log of a real (tiny)
training run."""
import json
import runpy
from pathlib import Path

import mmcv
import numpy as np
import pytest

import mmieee  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
TOOL = str(REPO / 'tools' / 'analysis_tools' / 'analyze_logs.py')


def _scalars(work_dir):
    (path, ) = Path(work_dir).glob('*/vis_data/scalars.json')
    return path, [json.loads(line) for line in path.read_text().splitlines()]


def test_plot_curve_draws_the_logged_values(tools, trained_run, tmp_path):
    path, lines = _scalars(trained_run)
    train = [e for e in lines if 'lr' in e]
    val = tools.read_val_metrics(trained_run)
    main = runpy.run_path(TOOL)['main']
    out = tmp_path / 'curves.png'
    # A run folder is resolved to its scalars.json.
    fig = main(['plot_curve', str(trained_run), '--keys', 'loss',
                'reid/mAP', '--out', str(out)])
    loss_ax, map_ax = fig.axes
    (loss_line, ), (map_line, ) = loss_ax.get_lines(), map_ax.get_lines()
    # 24 training samples / batch 8 = 3 iterations per epoch.
    np.testing.assert_allclose(loss_line.get_xdata(),
                               [e['step'] / 3 for e in train])
    np.testing.assert_allclose(loss_line.get_ydata(),
                               [e['loss'] for e in train])
    np.testing.assert_allclose(map_line.get_xdata(), [1, 2])
    np.testing.assert_allclose(map_line.get_ydata(),
                               [v['reid/mAP'] for v in val])
    assert map_ax.get_xlabel() == 'epochs'
    # metrics are percentages; the figure says what it shows
    assert map_ax.get_ylabel() == 'reid/mAP (%)'
    assert loss_ax.get_ylabel() == 'loss'
    assert fig._suptitle.get_text() == \
        f'loss, reid/mAP of {Path(trained_run).name}'
    assert mmcv.imread(str(out)).shape[:2] == (700, 1200)


def test_cal_train_time(trained_run, capsys):
    path, lines = _scalars(trained_run)
    train = [e for e in lines if 'lr' in e]
    main = runpy.run_path(TOOL)['main']
    (res, ) = main(['cal_train_time', str(path)])
    assert res['avg_iter_time'] == pytest.approx(
        np.mean([e['time'] for e in train]))
    # Without outliers: the first iteration of each epoch is left out.
    per_epoch = [np.mean([e['time'] for e in train
                          if e['epoch'] == ep][1:]) for ep in (1, 2)]
    assert res['slowest_epoch'] == int(np.argmax(per_epoch)) + 1
    assert res['epoch_time_std'] == pytest.approx(np.std(per_epoch))
    assert 'average iter time' in capsys.readouterr().out


def test_unknown_key_and_bad_files(trained_run, tmp_path, capsys):
    main = runpy.run_path(TOOL)['main']
    path, _ = _scalars(trained_run)
    with pytest.raises(SystemExit) as exit_:
        main(['plot_curve', str(path), '--keys', 'reid/mAp'])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "has no key 'reid/mAp'" in err and "'reid/mAP'" in err
    bad = tmp_path / 'scalars.json'
    bad.write_text('{"lr": 1, "step": 1}\nnot json\n')
    with pytest.raises(SystemExit):
        main(['cal_train_time', str(bad)])
    assert f'{bad}, line 2: not JSON' in capsys.readouterr().err
