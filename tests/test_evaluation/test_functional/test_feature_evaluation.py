# Copyright (c) mmieee contributors.
"""Chunked feature path == dense path, bit for bit; distances."""
import numpy as np
import pytest
import torch

from mmieee.evaluation.functional import (compute_distance, evaluate_features,
                                          evaluate_rank)


def _data(seed=0, num_q=37, num_g=150, dim=16):
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(10, dim, generator=gen)
    q_pids = torch.randint(0, 12, (num_q, ), generator=gen)
    g_pids = torch.randint(0, 10, (num_g, ), generator=gen)
    qf = centers[q_pids.clamp(max=9)] + torch.randn(num_q, dim, generator=gen)
    gf = centers[g_pids] + torch.randn(num_g, dim, generator=gen)
    gf[5] = gf[4]  # duplicated gallery feature: an exact tie
    q_cams = torch.randint(0, 4, (num_q, ), generator=gen)
    g_cams = torch.randint(0, 4, (num_g, ), generator=gen)
    return qf, gf, q_pids, g_pids, q_cams, g_cams


def test_distances_match_definitions():
    qf, gf = _data()[:2]
    d = compute_distance(qf, gf)
    torch.testing.assert_close(d, torch.cdist(qf, gf)**2, rtol=1e-4,
                               atol=1e-3)
    c = compute_distance(qf, gf, metric='cosine')
    norm = torch.nn.functional.normalize
    ref = 1 - norm(qf) @ norm(gf).t()
    torch.testing.assert_close(c, ref, rtol=1e-5, atol=1e-5)
    n = compute_distance(qf.numpy(), gf.numpy(), normalize=True)
    torch.testing.assert_close(n, 2 * ref, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match='metric must be one of'):
        compute_distance(qf, gf, metric='manhattan')
    with pytest.raises(ValueError, match='same feature dim'):
        compute_distance(qf, gf[:, :3])


@pytest.mark.parametrize('metric,normalize', [('euclidean', False),
                                              ('euclidean', True),
                                              ('cosine', False)])
@pytest.mark.parametrize('block_size', [8, 128])
def test_chunked_equals_dense_exactly(metric, normalize, block_size):
    qf, gf, q_pids, g_pids, q_cams, g_cams = _data()
    dense = evaluate_rank(
        compute_distance(qf, gf, metric, normalize, block_size), q_pids,
        g_pids, q_cams, g_cams)
    for chunk in (1, 3, 8, 20, 37, 500):
        res = evaluate_features(
            qf, gf, q_pids, g_pids, q_cams, g_cams, metric=metric,
            normalize=normalize, chunk_size=chunk, block_size=block_size)
        np.testing.assert_array_equal(res['cmc'], dense['cmc'])
        assert res['mAP'] == dense['mAP']
        assert res['mINP'] == dense['mINP']
        assert res['num_valid_queries'] == dense['num_valid_queries']


def test_scene_exclusion_is_just_another_group():
    qf, gf, q_pids, g_pids, _, _ = _data(1)
    scenes_q = q_pids % 3
    scenes_g = torch.arange(gf.shape[0]) % 3
    res = evaluate_features(qf, gf, q_pids, g_pids, scenes_q, scenes_g)
    ref = evaluate_rank(compute_distance(qf, gf), q_pids, g_pids, scenes_q,
                        scenes_g)
    assert res['mAP'] == ref['mAP']
    none = evaluate_features(qf, gf, q_pids, g_pids, None, None)
    assert none['num_valid_queries'] >= res['num_valid_queries']


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu_ranking():
    qf, gf, q_pids, g_pids, q_cams, g_cams = _data(2)
    dist = compute_distance(qf, gf)
    cpu = evaluate_rank(dist, q_pids, g_pids, q_cams, g_cams)
    gpu = evaluate_rank(dist.cuda(), q_pids, g_pids, q_cams, g_cams,
                        chunk_size=5)
    np.testing.assert_array_equal(cpu['cmc'], gpu['cmc'])
    assert cpu['mAP'] == pytest.approx(gpu['mAP'], rel=1e-12)
    feats = evaluate_features(qf.cuda(), gf.cuda(), q_pids, g_pids, q_cams,
                              g_cams)
    assert feats['mAP'] == pytest.approx(cpu['mAP'], rel=1e-3)
