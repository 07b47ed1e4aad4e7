# Copyright (c) mmieee contributors.
import numpy as np
import pytest
import torch

from mmieee.evaluation.functional import (compute_distance, distance_rows,
                                          evaluate_rows, rank_gallery,
                                          re_ranking)


def brute_force(dist, q_pids, g_pids, q_cams, g_cams, k):
    """Stable argsort per row, protocol exclusion, first k."""
    out = []
    for i in range(dist.shape[0]):
        order = np.argsort(dist[i], kind='stable')
        keep = [j for j in order
                if not (g_pids[j] == q_pids[i] and g_cams[j] == q_cams[i])]
        out.append(keep[:k])
    return out


def make_set(seed, q=7, g=23, d=4, ties=True):
    rng = np.random.default_rng(seed)
    # Integer features make many exact distance ties.
    gf = rng.integers(0, 3, (g, d)).astype(np.float32) if ties else \
        rng.normal(size=(g, d)).astype(np.float32)
    qf = gf[rng.choice(g, q, replace=False)].copy()
    g_pids = rng.integers(0, 4, g)
    g_cams = rng.integers(0, 2, g)
    q_pids = rng.integers(0, 4, q)
    q_cams = rng.integers(0, 2, q)
    return qf, gf, q_pids, g_pids, q_cams, g_cams


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('chunk_size', [None, 1, 3])
def test_rank_gallery_equals_brute_force_with_ties(seed, chunk_size):
    qf, gf, q_pids, g_pids, q_cams, g_cams = make_set(seed)
    dist = compute_distance(qf, gf).numpy()
    assert len(np.unique(dist)) < dist.size / 2  # there are ties
    row_fn, num_q, device = distance_rows(qf, gf)
    res = rank_gallery(row_fn, num_q, 10, q_pids, g_pids, q_cams, g_cams,
                       chunk_size=chunk_size, device=device)
    expected = brute_force(dist, q_pids, g_pids, q_cams, g_cams, 10)
    for i, exp in enumerate(expected):
        got = res['indices'][i]
        assert got[:len(exp)].tolist() == exp
        assert (got[len(exp):] == -1).all()
        np.testing.assert_array_equal(res['distances'][i, :len(exp)],
                                      dist[i, exp])
        removed = ((g_pids == q_pids[i]) & (g_cams == q_cams[i])).sum()
        assert res['num_excluded'][i] == removed


def test_rank_gallery_pads_small_filtered_gallery():
    qf, gf = np.zeros((1, 2), np.float32), np.eye(3, 2, dtype=np.float32)
    res = rank_gallery(*distance_rows(qf, gf)[:2], 5, np.array([1]),
                       np.array([1, 2, 1]), np.array([0]),
                       np.array([0, 0, 1]))
    # gallery 0 has the query's id and camera: removed; 2 (distance 0)
    # comes before 1 (distance 1)
    assert res['indices'][0].tolist() == [2, 1, -1, -1, -1]
    assert np.isnan(res['distances'][0, 2:]).all()


def test_rank_gallery_without_ids_removes_nothing():
    qf, gf, *_ = make_set(3, ties=False)
    dist = compute_distance(qf, gf).numpy()
    res = rank_gallery(*distance_rows(qf, gf)[:2], 4)
    np.testing.assert_array_equal(res['indices'],
                                  np.argsort(dist, axis=1)[:, :4])


def test_first_positive_agrees_with_metric_first_rank():
    """Rank 1 in a rank list is rank 1 in the metric."""
    qf, gf, q_pids, g_pids, q_cams, g_cams = make_set(5, q=9, g=40)
    row_fn, num_q, device = distance_rows(qf, gf)
    res = rank_gallery(row_fn, num_q, 40, q_pids, g_pids, q_cams, g_cams)
    metric = evaluate_rows(row_fn, num_q, q_pids, g_pids, q_cams, g_cams,
                           per_query=True)
    for i in range(num_q):
        idx = res['indices'][i]
        pos = np.nonzero(g_pids[idx[idx >= 0]] == q_pids[i])[0]
        if metric['valid'][i]:
            assert pos[0] + 1 == metric['first_rank'][i]
        else:
            assert len(pos) == 0


def test_rerank_rows_are_the_rerank_distances():
    qf, gf, *_ = make_set(4, ties=False)
    row_fn, num_q, device = distance_rows(qf, gf, rerank=True, k1=5, k2=3)
    assert device == torch.device('cpu')
    expected = re_ranking(qf, gf, k1=5, k2=3)
    torch.testing.assert_close(row_fn(0, num_q), expected)


def test_rerank_on_too_small_set_names_option_and_sizes():
    qf, gf, *_ = make_set(4, q=3, g=5)
    with pytest.raises(ValueError, match=r'rerank=True.*k1=20.*8 samples'):
        distance_rows(qf, gf, rerank=True)
