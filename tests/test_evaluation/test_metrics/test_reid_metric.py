# Copyright (c) mmieee contributors.
"""ReIDMetric: numbers, DDP sharding, exclusion modes, re-ranking, errors."""
import random
from unittest import mock

import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmieee.evaluation.functional import (compute_distance, evaluate_rank,
                                          re_ranking)
from mmieee.evaluation.metrics import ReIDMetric
from mmieee.registry import METRICS


def _samples(num=41, dim=12, seed=0, both=False, scenes=False):
    """Market-style (separate query/gallery) or RGBNT201-style (both)."""
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(6, dim, generator=gen)
    out = []
    for i in range(num):
        pid = int(torch.randint(0, 6, (1, ), generator=gen))
        feat = centers[pid] + 0.8 * torch.randn(dim, generator=gen)
        meta = dict(
            pid=pid,
            camid=int(torch.randint(0, 3, (1, ), generator=gen)),
            is_query=True if both else i % 4 == 0,
            is_gallery=True if both else i % 4 != 0)
        if scenes:
            meta['sceneid'] = int(torch.randint(0, 4, (1, ), generator=gen))
        out.append(dict(pred_feature=feat, **meta))
    return out


def _as_data_sample(d):
    meta = {k: v for k, v in d.items() if k != 'pred_feature'}
    sample = DataSample(metainfo=meta)
    sample.set_field(d['pred_feature'], 'pred_feature')
    return sample


def _run(metric, samples, batch=5):
    for s in range(0, len(samples), batch):
        metric.process(None, samples[s:s + batch])
    return metric.compute_metrics(metric.results)


def test_values_match_functional_and_registry():
    samples = _samples()
    metric = METRICS.build(dict(type='ReIDMetric'))
    res = _run(metric, samples)
    assert list(res) == ['mAP', 'R1', 'R5', 'R10', 'R20', 'mINP']
    feats = torch.stack([s['pred_feature'] for s in samples])
    q = np.array([s['is_query'] for s in samples])
    g = np.array([s['is_gallery'] for s in samples])
    pids = np.array([s['pid'] for s in samples])
    cams = np.array([s['camid'] for s in samples])
    ref = evaluate_rank(
        compute_distance(feats[q], feats[g]), pids[q], pids[g], cams[q],
        cams[g])
    assert res['mAP'] == pytest.approx(ref['mAP'] * 100, rel=1e-12)
    assert res['R5'] == pytest.approx(ref['cmc'][4] * 100)
    assert res['mINP'] == pytest.approx(ref['mINP'] * 100, rel=1e-12)
    # DataSample objects and the full evaluate() path (prefix 'reid')
    metric = ReIDMetric(ranks=(1, 3))
    metric.process(None, [_as_data_sample(s) for s in samples])
    out = metric.evaluate(len(samples))
    assert set(out) == {'reid/mAP', 'reid/R1', 'reid/R3', 'reid/mINP'}
    assert out['reid/mAP'] == res['mAP']


def _collect_like_mmengine(rank_results, size):
    # mmengine.dist.collect_results (cpu): interleave ranks, drop padding
    ordered = [r for group in zip(*rank_results) for r in group]
    return ordered[:size]


@pytest.mark.parametrize('num', [41, 40])
def test_two_simulated_ranks_equal_one(num):
    samples = _samples(num=num, both=True)
    single = _run(ReIDMetric(), samples)
    # DefaultSampler: pad to a multiple of the world size, rank r takes
    # indices r, r + 2, ...
    indices = list(range(num)) + list(range(num))[:(-num) % 2]
    shards = []
    for rank in range(2):
        m = ReIDMetric()
        for s in range(0, len(indices[rank::2]), 3):
            part = indices[rank::2][s:s + 3]
            m.process(None, [samples[i] for i in part])
        shards.append(m.results)
    assert sum(map(len, shards)) == len(indices)
    merged = _collect_like_mmengine(shards, num)
    assert [r['pid'] for r in merged] == [s['pid'] for s in samples]
    assert ReIDMetric().compute_metrics(merged) == single
    # record order does not matter (no exact ties here)
    shuffled = list(merged)
    random.Random(0).shuffle(shuffled)
    out = ReIDMetric().compute_metrics(shuffled)
    for k, v in single.items():
        assert out[k] == pytest.approx(v, rel=1e-12)


def test_query_is_also_gallery_is_removed_by_camera_rule():
    samples = _samples(num=30, both=True)
    res = _run(ReIDMetric(), samples)
    assert res['R1'] < 100  # no trivial self-match
    with mock.patch('mmieee.evaluation.metrics.reid_metric.print_log') as log:
        res_none = _run(ReIDMetric(exclude='none'), samples)
    assert res_none['R1'] == 100 and res_none['mAP'] > res['mAP']
    assert 'matches itself' in log.call_args_list[0][0][0]


def test_scene_exclusion_msvr310_style():
    samples = _samples(num=45, scenes=True)
    res = _run(ReIDMetric(exclude='scene'), samples)
    feats = torch.stack([s['pred_feature'] for s in samples])
    q = np.array([s['is_query'] for s in samples])
    g = ~q
    pids = np.array([s['pid'] for s in samples])
    scenes = np.array([s['sceneid'] for s in samples])
    ref = evaluate_rank(
        compute_distance(feats[q], feats[g]), pids[q], pids[g], scenes[q],
        scenes[g])
    assert res['mAP'] == pytest.approx(ref['mAP'] * 100, rel=1e-12)
    cams = _run(ReIDMetric(exclude='camera'), samples)
    assert cams['mAP'] != res['mAP']
    with pytest.raises(KeyError, match='"sceneid"'):
        _run(ReIDMetric(exclude='scene'), _samples(num=10))


def test_rerank_option_matches_functional():
    samples = _samples(num=40)
    metric = ReIDMetric(rerank=True, k1=6, k2=3, lambda_value=0.3)
    res = _run(metric, samples)
    feats = torch.stack([s['pred_feature'] for s in samples])
    q = np.array([s['is_query'] for s in samples])
    pids = np.array([s['pid'] for s in samples])
    cams = np.array([s['camid'] for s in samples])
    dist = re_ranking(feats[q], feats[~q], k1=6, k2=3, lambda_value=0.3)
    ref = evaluate_rank(dist, pids[q], pids[~q], cams[q], cams[~q])
    assert res['mAP'] == pytest.approx(ref['mAP'] * 100, rel=1e-12)
    assert _run(ReIDMetric(rerank=True, k1=6, k2=3), samples) == res


def test_errors_and_skipped_warning():
    samples = _samples(num=12)
    no_query = [dict(s, is_query=False) for s in samples]
    with pytest.raises(ValueError, match='0 query and 9 gallery'):
        _run(ReIDMetric(), no_query)
    no_gallery = [dict(s, is_gallery=False) for s in samples]
    with pytest.raises(ValueError, match='is_gallery'):
        _run(ReIDMetric(), no_gallery)
    with pytest.raises(KeyError, match='pred_feature'):
        ReIDMetric().process(None, [{'pid': 1}])
    missing = [dict(s) for s in samples]
    del missing[3]['is_query']
    with pytest.raises(KeyError, match='1 of 12 samples have no "is_query"'):
        _run(ReIDMetric(), missing)
    with pytest.raises(ValueError, match='exclude must be one of'):
        ReIDMetric(exclude='cam')
    with pytest.raises(ValueError, match='max_rank=10'):
        ReIDMetric(max_rank=10)
    samples = _samples(num=40)
    with mock.patch('mmieee.evaluation.metrics.reid_metric.print_log') as log:
        _run(ReIDMetric(), samples)
    before = sum('queries have no positive' in c[0][0]
                 for c in log.call_args_list)
    assert before == 0  # every query of this set has a positive
    skipped = [dict(s) for s in samples]
    skipped[0]['pid'] = 1000  # queries 0 and 4 lose all their positives
    skipped[4]['pid'] = 1001
    with mock.patch('mmieee.evaluation.metrics.reid_metric.print_log') as log:
        _run(ReIDMetric(), skipped)
    assert '2 of 10 queries have no positive' in log.call_args_list[-1][0][0]


def test_non_finite_features_are_reported_as_such():
    metric = ReIDMetric()
    samples = []
    for i in range(4):
        feat = torch.ones(3) * i
        if i == 2:
            feat[1] = float('nan')
        samples.append(dict(pred_feature=feat, pid=i % 2, camid=i,
                            is_query=True, is_gallery=True))
    metric.process(None, samples)
    with pytest.raises(ValueError, match=r'1 of 4 samples have NaN or '
                       r'infinite features \(the first is sample 2'):
        metric.compute_metrics(metric.results)
