# Copyright (c) mmieee contributors.
"""evaluate_rank against the package's readable reference of the
torchreid / fast-reid protocol (evaluate_rank_reference), which is itself
checked on hand-computed cases."""
import numpy as np
import pytest
import torch

from mmieee.evaluation.functional import evaluate_rank, evaluate_rank_reference


def brute_force(distmat, q_pids, g_pids, q_cams, g_cams, max_rank):
    """The package's readable reference, as a tuple."""
    res = evaluate_rank_reference(distmat, q_pids, g_pids, q_cams, g_cams,
                                  max_rank)
    return res['cmc'], res['mAP'], res['mINP'], res['num_valid_queries']


def _random_case(seed, num_q=30, num_g=120, dist_levels=None):
    rng = np.random.default_rng(seed)
    q_pids = rng.integers(0, 14, num_q)
    q_pids[:3] = 99  # ids absent from the gallery: skipped queries
    g_pids = rng.integers(0, 12, num_g)
    g_pids[:2] = 50  # id with exactly one gallery item ...
    q_pids[3] = 50
    q_cams = rng.integers(0, 5, num_q)
    g_cams = rng.integers(0, 5, num_g)
    q_cams[3] = (g_cams[0] + 1) % 5  # ... one positive left
    g_cams[1] = q_cams[3]  # the other one is removed (same camera)
    if dist_levels is None:
        dist = rng.random((num_q, num_g)).astype(np.float32)
    else:  # few distinct values: many exact ties
        dist = rng.integers(0, dist_levels, (num_q, num_g)).astype(np.float32)
    return dist, q_pids, g_pids, q_cams, g_cams


@pytest.mark.parametrize('seed,levels', [(0, None), (1, None), (2, 4),
                                         (3, 30), (4, 1)])
def test_equals_brute_force(seed, levels):
    dist, q_pids, g_pids, q_cams, g_cams = _random_case(
        seed, dist_levels=levels)
    res = evaluate_rank(dist, q_pids, g_pids, q_cams, g_cams, max_rank=20)
    cmc, m_ap, m_inp, n_valid = brute_force(dist, q_pids, g_pids, q_cams,
                                            g_cams, 20)
    assert set(res) == {'cmc', 'mAP', 'mINP', 'num_valid_queries'}
    assert res['num_valid_queries'] == n_valid
    assert n_valid < len(q_pids)  # the id-99 queries are skipped
    assert res['cmc'].shape == (20, )
    np.testing.assert_array_equal(res['cmc'], cmc)
    assert res['mAP'] == pytest.approx(m_ap, rel=1e-12, abs=0)
    assert res['mINP'] == pytest.approx(m_inp, rel=1e-12, abs=0)


def test_single_positive_and_hand_computed_values():
    # one query (pid 1, cam 0); gallery in distance order:
    # [pid1 cam0 (removed), pid2, pid1 cam1, pid3, pid1 cam2]
    dist = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    g_pids = np.array([1, 2, 1, 3, 1])
    g_cams = np.array([0, 0, 1, 0, 2])
    res = evaluate_rank(dist, np.array([1]), g_pids, np.array([0]), g_cams,
                        max_rank=5)
    # filtered ranking: [neg, pos, neg, pos] -> ranks 2 and 4
    np.testing.assert_array_equal(res['cmc'], [0, 1, 1, 1, 1])
    assert res['mAP'] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert res['mINP'] == pytest.approx(2 / 4)
    # without exclusion the removed item comes back at rank 1
    res = evaluate_rank(dist, np.array([1]), g_pids, None, None, max_rank=5)
    assert res['cmc'][0] == 1
    assert res['mAP'] == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)
    assert res['mINP'] == pytest.approx(3 / 5)


def test_ties_broken_by_gallery_index():
    dist = np.zeros((1, 4), dtype=np.float32)
    res = evaluate_rank(dist, np.array([7]), np.array([3, 7, 3, 7]),
                        np.array([0]), np.array([1, 1, 1, 1]), max_rank=4)
    # order 0, 1, 2, 3 -> positives at ranks 2 and 4
    assert res['mAP'] == pytest.approx((1 / 2 + 2 / 4) / 2)
    np.testing.assert_array_equal(res['cmc'], [0, 1, 1, 1])


def test_chunking_and_tensor_input_are_exact():
    dist, q_pids, g_pids, q_cams, g_cams = _random_case(5, dist_levels=6)
    ref = evaluate_rank(dist, q_pids, g_pids, q_cams, g_cams)
    for chunk in (1, 4, 29, 1000):
        res = evaluate_rank(
            torch.from_numpy(dist), torch.from_numpy(q_pids), g_pids, q_cams,
            g_cams, chunk_size=chunk)
        np.testing.assert_array_equal(res['cmc'], ref['cmc'])
        assert res['mAP'] == ref['mAP'] and res['mINP'] == ref['mINP']


def test_errors():
    dist, q_pids, g_pids, q_cams, g_cams = _random_case(6)
    with pytest.raises(ValueError, match='no query has a positive'):
        evaluate_rank(dist, q_pids + 1000, g_pids, q_cams, g_cams)
    with pytest.raises(ValueError, match='q_pids has'):
        evaluate_rank(dist, q_pids[:-1], g_pids, q_cams, g_cams)
    with pytest.raises(ValueError, match='finite'):
        bad = dist.copy()
        bad[0, 0] = np.nan
        evaluate_rank(bad, q_pids, g_pids, q_cams, g_cams)
    with pytest.raises(ValueError, match='for both query and gallery'):
        evaluate_rank(dist, q_pids, g_pids, q_cams, None)
    with pytest.raises(TypeError, match='integers'):
        evaluate_rank(dist, q_pids.astype(float), g_pids, q_cams, g_cams)


def test_reference_on_a_hand_computed_case():
    """One query, gallery ranked [neg, pos(same cam: removed), pos, neg,
    pos]: positives at filtered ranks 2 and 4 -> AP = (1/2 + 2/4) / 2,
    INP = 2 / 4, CMC = [0, 1, 1, ...]."""
    dist = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    g_pids = np.array([7, 1, 1, 8, 1])
    g_cams = np.array([0, 0, 1, 1, 2])
    res = evaluate_rank_reference(dist, np.array([1]), g_pids,
                                  np.array([0]), g_cams, max_rank=4)
    assert res['mAP'] == pytest.approx(0.5)
    assert res['mINP'] == pytest.approx(0.5)
    np.testing.assert_array_equal(res['cmc'], [0, 1, 1, 1])
