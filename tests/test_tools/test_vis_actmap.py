# Copyright (c) mmieee contributors.
"""tools/visualization/vis_actmap.py on the tiny trained model."""
import runpy
import sys
from pathlib import Path

import mmcv
import numpy as np
import pytest

import mmieee  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
TOOL = str(REPO / 'tools' / 'visualization' / 'vis_actmap.py')


def test_one_picture_per_sample_with_heat_maps(tools, tiny_config,
                                               trained_run, tmp_path):
    main = runpy.run_path(TOOL)['main']
    files = main([
        str(tiny_config),
        str(tools.best_checkpoint(trained_run)), '--out-dir',
        str(tmp_path), '--num-samples', '2'
    ])
    assert len(files) == 2 and all(Path(f).is_file() for f in files)
    img = mmcv.imread(files[0], channel_order='rgb').astype(int)
    cells = [[img[y0:y1, x0:x1] for x0, x1 in _runs(
        (img[(y0 + y1) // 2] != 255).any(-1), 40)]
        for y0, y1 in _runs((img != 255).any(-1).sum(1) > 40, 60)]
    # One row per modality: an image, its activation overlay and the
    # colour scale (JET: the maximum, red, at the top; blue at the bottom).
    assert [len(row) for row in cells] == [3, 3, 3]
    for image, overlay, scale in cells:
        top, bottom = scale[2].mean(0), scale[-3].mean(0)
        assert top[0] > top[2] and bottom[2] > bottom[0]
        assert image.shape == overlay.shape
        assert np.abs(image - overlay).mean() > 10
        # The overlay is image and heat map blended: it keeps the image's
        # structure (correlated), it is not the image.
        corr = np.corrcoef(image.mean(-1).ravel(),
                           overlay.mean(-1).ravel())[0, 1]
        assert corr > 0.2


def _runs(mask, min_len):
    """(start, end) of the runs of True at least ``min_len`` long."""
    runs, start = [], None
    for i, v in enumerate(list(mask) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start >= min_len:
                runs.append((start, i))
            start = None
    return runs


def test_grad_cam_without_the_package_says_how_to_install(
        tools, tiny_config, trained_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, 'pytorch_grad_cam', None)
    main = runpy.run_path(TOOL)['main']
    with pytest.raises(SystemExit) as exit_:
        main([str(tiny_config), str(tools.best_checkpoint(trained_run)),
              '--out-dir', str(tmp_path), '--grad-cam'])
    assert exit_.value.code == 2
    assert 'pip install --no-deps grad-cam ttach tqdm' in \
        capsys.readouterr().err
