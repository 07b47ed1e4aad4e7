# Copyright (c) mmieee contributors.
"""ReIDVisualizationHook: rank lists of a test epoch, worst query first."""
import os.path as osp
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401
from mmieee.datasets import RGBNT100
from mmieee.datasets.transforms import LoadMultiModalImages
from mmieee.engine.hooks import ReIDVisualizationHook
from mmieee.evaluation import ReIDMetric
from mmieee.evaluation.functional import evaluate_rank
from mmieee.testing import generate_synthetic_dataset
from mmieee.visualization import ReIDVisualizer


@pytest.fixture
def dataset(tmp_path):
    generate_synthetic_dataset(
        str(tmp_path), num_train_ids=1, num_test_ids=3, num_cameras=2,
        images_per_id_per_camera=2, height=32, width=16, layout='rgbnt100')
    return RGBNT100(
        str(tmp_path / 'RGBNT100'), split='test', tile_width=16,
        pipeline=[LoadMultiModalImages()])


def _outputs(dataset):
    """One data sample per test sample; features put query 0 nearer to
    another identity, so it has the worst AP."""
    rng = np.random.default_rng(0)
    pids = sorted({dataset.get_data_info(i)['pid']
                   for i in range(len(dataset))})
    samples = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        feat = np.zeros(8, np.float32)
        feat[pids.index(info['pid'])] = 1
        feat += rng.normal(0, 0.05, 8).astype(np.float32)
        if i == 0:
            feat = np.roll(feat, 1)
        s = DataSample()
        s.set_metainfo({
            k: info[k] for k in ('pid', 'camid', 'is_query', 'is_gallery',
                                 'img_path')
        })
        s.set_metainfo(dict(sample_idx=i))
        s.set_field(torch.from_numpy(feat), 'pred_feature')
        samples.append(s)
    return samples


def _runner(dataset):
    return SimpleNamespace(
        test_dataloader=SimpleNamespace(dataset=dataset),
        test_evaluator=SimpleNamespace(metrics=[ReIDMetric()]),
        logger=MMLogger.get_instance('test_reid_visualization_hook'))


def test_writes_worst_queries_first(dataset, tmp_path):
    vis = ReIDVisualizer.get_instance(
        'test_reid_vis_hook',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'backend'),
        cell_height=32)
    out = tmp_path / 'show'
    hook = ReIDVisualizationHook(
        enable=True, out_dir=str(out), num_queries=2, topk=3)
    runner = _runner(dataset)
    outputs = _outputs(dataset)
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, None, outputs[:5])
    hook.after_test_iter(runner, 1, None, outputs[5:])
    hook.after_test_epoch(runner, {})

    # Per-query AP computed independently.
    feats = torch.stack([o.pred_feature for o in outputs]).numpy()
    info = [dataset.get_data_info(i) for i in range(len(dataset))]
    q = [i for i, d in enumerate(info) if d['is_query']]
    g = [i for i, d in enumerate(info) if d['is_gallery']]
    pid = np.array([d['pid'] for d in info])
    cam = np.array([d['camid'] for d in info])
    aps = []
    for i in q:
        dist = ((feats[[i]][:, None] - feats[g][None])**2).sum(-1)
        aps.append(
            evaluate_rank(dist, pid[[i]], pid[g], cam[[i]], cam[g])['mAP'])
    worst = [q[j] for j in np.argsort(aps, kind='stable')[:2]]
    assert worst[0] == 0

    files = sorted(p.name for p in out.glob('*.png'))
    assert files == [
        f'{k:03d}_query{row:05d}_id{pid[row]}.png'
        for k, row in enumerate(worst)
    ]
    assert (out / 'index.html').read_text().count('<img ') == 2
    # The worst query's picture: query + 3 ranks, each 3 modality tiles of
    # the RGBNT100 file (16 px wide cells, shown at 32 x 16).
    img = mmcv.imread(str(out / files[0]), channel_order='rgb')
    frames = (img == vis.MATCH_COLOR).all(-1) | (
        img == vis.MISMATCH_COLOR).all(-1)
    assert frames.any()
    # And the vis backend received both pictures.
    backend_imgs = list((tmp_path / 'backend').rglob('*.png'))
    assert len(backend_imgs) == 2


def test_disabled_hook_draws_nothing(dataset, tmp_path):
    hook = ReIDVisualizationHook(enable=False, out_dir=str(tmp_path / 's'))
    runner = _runner(dataset)
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, None, _outputs(dataset))
    hook.after_test_epoch(runner, {})
    assert not osp.exists(tmp_path / 's')


def test_bad_arguments():
    with pytest.raises(ValueError, match='order must be one of'):
        ReIDVisualizationHook(order='median')
    with pytest.raises(ValueError, match='num_queries and topk must be'):
        ReIDVisualizationHook(topk=0)
