# Copyright (c) mmieee contributors.
"""ReIDMetric and the feature dump with a query and a gallery feature per
sample (cross-modal protocol)."""
import pytest
import torch

from mmieee.evaluation import FeatureSet
from mmieee.evaluation.metrics import ReIDMetric

# pid, camid: every id is seen by cameras 0 and 1; all query and gallery.
META = [(0, 0), (0, 1), (1, 0), (1, 1)]


def _samples(query, gallery=None):
    out = []
    for (pid, camid), q, g in zip(META, query, gallery or [None] * 4):
        sample = dict(pid=pid, camid=camid, is_query=True, is_gallery=True,
                      pred_feature=torch.tensor([q]))
        if g is not None:
            sample['pred_gallery_feature'] = torch.tensor([g])
        out.append(sample)
    return out


def _metrics(samples):
    metric = ReIDMetric(ranks=(1, 2, 3), max_rank=3)
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


def test_queries_are_ranked_against_gallery_features():
    """Query features (0, 0, 10, 10), gallery features (10, 10, 0, 0).
    Query 0 (pid 0, cam 0; its own item is excluded): gallery items 2 and 3
    (pid 1) at distance 0, item 1 (pid 0) at 10 -> the positive is third:
    AP = 1/3, INP = 1/3, not in the top 2. Every query is alike."""
    res = _metrics(_samples([0., 0., 10., 10.], [10., 10., 0., 0.]))
    assert res['mAP'] == pytest.approx(100 / 3)
    assert res['mINP'] == pytest.approx(100 / 3)
    assert (res['R1'], res['R2'], res['R3']) == (0.0, 0.0, 100.0)
    # the same query features as their own gallery: perfect retrieval
    res = _metrics(_samples([0., 0., 10., 10.]))
    assert (res['mAP'], res['R1']) == (100.0, 100.0)


def test_all_or_none_of_the_samples_have_a_gallery_feature():
    samples = _samples([0., 0., 10., 10.], [10., 10., 0., 0.])
    del samples[2]['pred_gallery_feature']
    with pytest.raises(ValueError, match='3 of 4 samples have a '
                       '"pred_gallery_feature"'):
        _metrics(samples)
    with pytest.raises(ValueError, match='3 of 4'):
        FeatureSet.from_samples(samples)


def test_dump_keeps_both_features():
    out = FeatureSet.from_samples(
        _samples([0., 1., 2., 3.], [4., 5., 6., 7.]))
    assert out.feats[:, 0].tolist() == [0., 1., 2., 3.]
    assert out.gallery_feats[:, 0].tolist() == [4., 5., 6., 7.]
    assert FeatureSet.from_samples(_samples([0.] * 4)).gallery_feats is None
    # the gallery side of the protocol uses the gallery features
    query, gallery = out.query_gallery()
    assert query.feats[:, 0].tolist() == [0., 1., 2., 3.]
    assert gallery.feats[:, 0].tolist() == [4., 5., 6., 7.]
