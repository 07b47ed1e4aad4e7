# Copyright (c) mmieee contributors.
"""RankingProtocol.rank: the metric's numbers, the top-k with the exclusion,
proposed candidates ranked like the full gallery, and refused inputs."""
import numpy as np
import pytest

from mmieee.evaluation import FeatureSet, RankingProtocol
from mmieee.evaluation.functional import compute_distance, evaluate_rank


def _sets(seed=0, q=7, g=40, d=5):
    rng = np.random.default_rng(seed)
    pids = rng.integers(0, 6, q + g)
    cams = rng.integers(0, 3, q + g)
    feats = rng.normal(size=(q + g, d)).astype(np.float32)
    feats += pids[:, None] * 0.5  # ids cluster a little
    query = FeatureSet(feats[:q], pids=pids[:q], camids=cams[:q])
    gallery = FeatureSet(feats[q:], pids=pids[q:], camids=cams[q:])
    return query, gallery


def _brute(query, gallery, metric='euclidean'):
    """Stable ranking of the full distance rows, same id + camera removed."""
    dist = compute_distance(query.feats, gallery.feats, metric).numpy()
    out = []
    for i in range(len(query)):
        order = np.argsort(dist[i], kind='stable')
        out.append([j for j in order if not (
            gallery.pids[j] == query.pids[i]
            and gallery.camids[j] == query.camids[i])])
    return dist, out


@pytest.mark.parametrize('metric', ['euclidean', 'cosine'])
def test_metric_numbers_and_topk_follow_the_protocol(metric):
    query, gallery = _sets()
    protocol = RankingProtocol(metric=metric)
    out = protocol.rank(query, gallery, topk=5, evaluate=True)
    dist, want = _brute(query, gallery, metric)
    ref = evaluate_rank(dist, query.pids, gallery.pids, query.camids,
                        gallery.camids)
    assert out['mAP'] == ref['mAP']
    np.testing.assert_array_equal(out['cmc'], ref['cmc'])
    assert out['indices'].tolist() == [w[:5] for w in want]
    assert out['num_excluded'].tolist() == [
        len(gallery) - len(w) for w in want]
    assert out['num_excluded'].tolist() == protocol.excluded_counts(
        query, gallery).tolist()


def test_proposed_candidates_are_ranked_as_the_full_gallery():
    """A backend that proposes a superset of each query's top-k (in any
    order, with duplicates and -1 padding) gets the exact path's top-k."""
    query, gallery = _sets(seed=1)
    protocol = RankingProtocol()
    exact = protocol.rank(query, gallery, topk=4)
    _, want = _brute(query, gallery)
    rng = np.random.default_rng(0)
    cands = []
    for i, w in enumerate(want):
        extra = rng.choice(len(gallery), 6)
        row = np.concatenate([w[:4], extra, [-1, w[0]]])
        cands.append(rng.permutation(row))
    out = protocol.rank(query, gallery, topk=4, candidates=np.stack(cands))
    np.testing.assert_array_equal(out['indices'], exact['indices'])
    np.testing.assert_allclose(out['distances'], exact['distances'],
                               rtol=1e-5)
    np.testing.assert_array_equal(out['num_excluded'],
                                  exact['num_excluded'])
    with pytest.raises(ValueError, match='no statistics, no re-ranking'):
        protocol.rank(query, gallery, topk=4, evaluate=True,
                      candidates=np.stack(cands))


def test_without_ids_nothing_is_excluded_and_evaluation_needs_them():
    query, gallery = _sets()
    bare = FeatureSet(query.feats)
    out = RankingProtocol().rank(bare, gallery, topk=len(gallery))
    assert (out['num_excluded'] == 0).all()
    assert (out['indices'] >= 0).all()
    with pytest.raises(KeyError, match="has no 'pids'"):
        RankingProtocol().rank(bare, gallery, evaluate=True)
    scene = RankingProtocol(exclude='scene')
    assert scene.group_key == 'sceneids'
    with pytest.raises(KeyError, match="has no 'sceneids'"):
        scene.rank(query, gallery, evaluate=True)


def test_non_finite_features_are_refused_naming_the_row():
    query, gallery = _sets()
    gallery.feats[3, 1] = np.nan
    with pytest.raises(ValueError, match=r'1 of 40 gallery features .* \(the '
                       'first is gallery row 3'):
        RankingProtocol().rank(query, gallery, topk=3)
    query.feats[2, 0] = np.inf
    with pytest.raises(ValueError, match='query row 2'):
        RankingProtocol().rank(query, gallery, topk=3)


def test_settings_are_checked():
    with pytest.raises(ValueError, match='exclude must be one of'):
        RankingProtocol(exclude='cam')
    with pytest.raises(ValueError, match='metric must be one of'):
        RankingProtocol(metric='l1')
    assert RankingProtocol().replace(rerank=True).rerank
