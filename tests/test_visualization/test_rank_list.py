# Copyright (c) mmieee contributors.
"""rank_rows / select_queries: the metric's ranking in the rows of a
feature set, and the picture built from it (excluded items skipped, rank 2
green at column 3)."""
import numpy as np
import pytest

import mmieee  # noqa: F401
from mmieee.evaluation import FeatureSet, RankingProtocol, ReIDMetric
from mmieee.evaluation.functional import evaluate_rank, re_ranking
from mmieee.visualization import (ReIDVisualizer, draw_ranked_row, rank_rows,
                                  select_queries)


def _features():
    """Query row 0 (id 1, cam 0, at x=0) and a gallery on a line:

    row 1: id 1 cam 0 at 0.1 -> same id and camera: excluded
    row 2: id 2 cam 1 at 0.2 -> rank 1, wrong
    row 3: id 1 cam 1 at 0.3 -> rank 2, correct
    row 4: id 3 cam 0 at 0.4 -> rank 3, wrong
    Row 5 is a second query (id 3, cam 1, at 0.41) whose match is row 4.
    """
    x = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.41], np.float32)[:, None]
    return FeatureSet(
        feats=x,
        pids=np.array([1, 1, 2, 1, 3, 3]),
        camids=np.array([0, 0, 1, 1, 0, 1]),
        sceneids=np.array([5, 6, 5, 5, 5, 5]),
        is_query=np.array([1, 0, 0, 0, 0, 1], bool),
        is_gallery=np.array([0, 1, 1, 1, 1, 0], bool),
        img_paths=[[f'{i}.jpg'] for i in range(6)],
        source='f.npz')


def test_exclusion_and_ap_as_the_metric():
    feats = _features()
    ranked = rank_rows(feats, ReIDMetric().protocol, topk=10)
    np.testing.assert_array_equal(ranked['query_rows'], [0, 5])
    np.testing.assert_array_equal(ranked['indices'][0], [2, 3, 4] + [-1] * 7)
    np.testing.assert_array_equal(ranked['matches'][0, :3],
                                  [False, True, False])
    np.testing.assert_allclose(ranked['distances'][0, :3],
                               [0.04, 0.09, 0.16], rtol=1e-5)
    assert np.isnan(ranked['distances'][0, 3:]).all()
    assert ranked['num_excluded'].tolist() == [1, 0]
    assert ranked['first_rank'].tolist() == [2, 1]
    np.testing.assert_allclose(ranked['ap'], [0.5, 1.0])
    # The metric on the same data: the same mAP and R1.
    x = feats.feats[:, 0].astype(np.float64)
    q, g = [0, 5], [1, 2, 3, 4]
    dist = (x[q][:, None] - x[g][None])**2
    ref = evaluate_rank(dist, feats.pids[q], feats.pids[g],
                        feats.camids[q], feats.camids[g])
    assert ranked['ap'].mean() == pytest.approx(ref['mAP'])
    assert (ranked['first_rank'] == 1).mean() == pytest.approx(ref['cmc'][0])


def test_scene_exclusion_and_no_exclusion():
    feats = _features()
    # exclude='scene': row 2 (id 2) stays; row 1 (id 1, scene 6 vs the
    # query's 5) is kept, rows with id 1 and scene 5 (row 3) are removed.
    ranked = rank_rows(feats, RankingProtocol(exclude='scene'), topk=3)
    assert ranked['indices'][0].tolist() == [1, 2, 4]
    assert ranked['matches'][0].tolist() == [True, False, False]
    ranked = rank_rows(feats, RankingProtocol(exclude='none'), topk=2)
    assert ranked['indices'][0].tolist() == [1, 2]
    assert ranked['num_excluded'].tolist() == [0, 0]
    feats.sceneids = None
    with pytest.raises(KeyError, match="f.npz has no 'sceneids'"):
        rank_rows(feats, RankingProtocol(exclude='scene'))


def test_reranking_is_honoured():
    rng = np.random.default_rng(0)
    feats = FeatureSet(
        feats=rng.normal(size=(12, 4)).astype(np.float32),
        pids=np.repeat(np.arange(4), 3),
        camids=np.tile(np.arange(3), 4),
        is_query=np.ones(12, bool),
        is_gallery=np.ones(12, bool))
    ranked = rank_rows(feats, RankingProtocol(rerank=True, k1=4, k2=2),
                       topk=11)
    dist = re_ranking(feats.feats, feats.feats, k1=4, k2=2).numpy()
    for q in range(12):
        same = (feats.pids == feats.pids[q]) & (
            feats.camids == feats.camids[q])
        order = [i for i in np.argsort(dist[q], kind='stable') if not same[i]]
        assert ranked['indices'][q, :len(order)].tolist() == order
        np.testing.assert_allclose(ranked['distances'][q, :len(order)],
                                   dist[q, order])


def test_select_queries_orders():
    ranked = dict(
        ap=np.array([0.5, 0.0, 0.9, 0.1, 0.5]),
        valid=np.array([True, False, True, True, True]))
    assert select_queries(ranked, None, 'worst') == [3, 0, 4, 2, 1]
    assert select_queries(ranked, 2, 'best') == [2, 0]
    rand = select_queries(ranked, None, 'random', seed=3)
    assert sorted(rand[:4]) == [0, 2, 3, 4] and rand[4] == 1
    assert rand == select_queries(ranked, None, 'random', seed=3)
    with pytest.raises(ValueError, match='order must be one of'):
        select_queries(ranked, 1, 'median')


def test_protocol_from_config():
    from mmengine.config import Config
    cfg = Config(dict(test_evaluator=dict(type='ReIDMetric', rerank=True,
                                          k1=3)))
    protocol = RankingProtocol.from_config(cfg)
    assert protocol.rerank and protocol.k1 == 3
    assert protocol.exclude == 'camera'
    cfg = Config(dict(test_evaluator=[
        dict(type='DumpReIDFeatures', out_file='x.pkl'),
        dict(type='mmieee.ReIDMetric', exclude='scene')
    ]))
    assert RankingProtocol.from_config(cfg).exclude == 'scene'
    cfg = Config(dict(val_evaluator=dict(
        type='Evaluator', metrics=[dict(type='ReIDMetric')])))
    assert RankingProtocol.from_config(cfg) == RankingProtocol()
    from mmieee.utils import ConfigError
    with pytest.raises(ConfigError, match='exactly one ReIDMetric'):
        RankingProtocol.from_config(
            Config(dict(test_evaluator=dict(type='Accuracy'))))


def test_picture_skips_the_excluded_item():
    """Drawn from the ranking: the excluded row 1 is not shown, column 2
    shows row 2 in red and column 3 row 3 in green."""
    feats = _features()
    ranked = rank_rows(feats, ReIDMetric().protocol, topk=3)
    colors = {r: (20 * r + 10, 99, 7) for r in range(6)}

    def load(row):
        return [np.full((30, 15, 3), colors[row], np.uint8)]

    vis = ReIDVisualizer.get_instance('test_ranked_queries', cell_height=30)
    canvas = draw_ranked_row(vis, feats, ranked, 0, load, ('RGB', ))
    y = np.flatnonzero((canvas == colors[0]).all(-1).any(1)).mean().astype(
        int)
    line = canvas[y]
    green = np.flatnonzero((line == vis.MATCH_COLOR).all(-1))
    red = np.flatnonzero((line == vis.MISMATCH_COLOR).all(-1))
    shown = [r for r in range(6) if (line == colors[r]).all(-1).any()]
    assert shown == [0, 2, 3, 4]  # row 1 skipped
    x_of = {r: np.flatnonzero((line == colors[r]).all(-1)).mean()
            for r in shown}
    assert x_of[0] < x_of[2] < x_of[3] < x_of[4]
    # The green frame surrounds row 3, the red ones rows 2 and 4.
    assert green.min() < x_of[3] < green.max()
    assert red.min() < x_of[2] < red.max() and x_of[4] < red.max()
    assert not (green.min() < x_of[2] < green.max())
    # the title (drawn text): checked through the function that makes it
    from mmieee.visualization import rank_list_title
    title = rank_list_title('query 0', dict(pid=1, camid=0, sceneid=5),
                            (True, 0.5, 2), 1)
    assert 'query 0: id 1, camid 0, scene 5' in title
    assert 'AP 50.0%, first match at rank 2' in title
    assert '1 gallery item(s) with the same id and camera/scene skipped' \
        in title


def test_feature_set_errors():
    feats = _features()
    feats.is_query = None
    with pytest.raises(KeyError, match="f.npz has no 'is_query'"):
        rank_rows(feats, RankingProtocol())
    feats = _features()
    feats.is_gallery[:] = False
    with pytest.raises(ValueError, match='0 gallery samples'):
        rank_rows(feats, RankingProtocol())
