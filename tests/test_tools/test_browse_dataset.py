# Copyright (c) mmieee contributors.
"""tools/visualization/browse_dataset.py: the pipeline's images, step by
step, modalities side by side."""
import runpy
from pathlib import Path

import mmcv
import numpy as np
from mmengine.config import Config

import mmieee  # noqa: F401
from mmieee.datasets import RGBNT201
from mmieee.datasets.transforms import (ApplyToModalities,
                                        LoadMultiModalImages,
                                        PackMultiModalReIDInputs)

REPO = Path(__file__).resolve().parents[2]
TOOL = str(REPO / 'tools' / 'visualization' / 'browse_dataset.py')


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


def test_pictures_have_a_row_per_step_and_a_column_per_modality(
        tiny_config, tmp_path):
    main = runpy.run_path(TOOL)['main']
    files = main([str(tiny_config), '--out-dir', str(tmp_path), '--num',
                  '2'])
    # 6 training ids x 2 cameras x 2 images: the first and the last sample.
    assert [Path(f).name for f in files] == ['train_00000_id1.png',
                                             'train_00023_id6.png']
    img = mmcv.imread(files[0], channel_order='rgb')
    rows = _runs((img != 255).any(-1).sum(1) > 100, 60)
    assert len(rows) == 3  # loaded, ApplyToModalities, packed
    for y0, y1 in rows:
        cells = _runs((img[(y0 + y1) // 2] != 255).any(-1), 40)
        assert len(cells) == 3  # RGB, NI, TI


def test_steps_show_what_each_transform_did(tiny_config):
    steps_of = runpy.run_path(TOOL)['pipeline_steps']
    root = Config.fromfile(str(tiny_config)).data_root
    for shared in (True, False):
        dataset = RGBNT201(root, split='train', pipeline=[
            LoadMultiModalImages(),
            ApplyToModalities(
                transforms=[dict(type='RandomFlip', prob=1.0)],
                share_random_params=shared),
            PackMultiModalReIDInputs()
        ])
        steps = steps_of(dataset, 3)
        labels = [label for label, _ in steps]
        assert labels[0] == 'LoadMultiModalImages\n64 x 32'
        draws = 'shared' if shared else 'independent'
        assert labels[1] == (f'ApplyToModalities\n[RandomFlip]\n{draws} '
                             'draws\n64 x 32')
        assert labels[2].startswith('PackMultiModalReIDInputs')
        for loaded, flipped, packed in zip(*(imgs for _, imgs in steps)):
            np.testing.assert_array_equal(flipped, loaded[:, ::-1])
            np.testing.assert_array_equal(packed, flipped)
