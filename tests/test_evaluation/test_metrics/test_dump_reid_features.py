# Copyright (c) mmieee contributors.
import pickle

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmieee.evaluation import DumpReIDFeatures, FeatureSet
from mmieee.registry import METRICS


def _sample(feat, pid, camid, **extra):
    s = DataSample(metainfo=dict(pid=pid, camid=camid, is_query=True,
                                 is_gallery=False, **extra))
    s.pred_feature = torch.tensor(feat)
    return s


def test_dump_metric_writes_the_feature_set(tmp_path):
    out = tmp_path / 'sub' / 'f.pkl'
    metric = DumpReIDFeatures(str(out))
    metric.process({}, [_sample([1., 0.], 1, 0).to_dict()])
    metric.process({}, [_sample([0., 1.], 2, 1).to_dict()])
    assert metric.evaluate(2) == {}
    # a plain pickle of arrays (any reader), read back safely by mmieee
    with open(out, 'rb') as f:
        d = pickle.load(f)
    assert d['pids'].tolist() == [1, 2]
    assert FeatureSet.load(str(out)).pids.tolist() == [1, 2]
    with pytest.raises(ValueError, match=r"must end with one of \('.npz'"):
        DumpReIDFeatures(str(tmp_path / 'f.json'))


def test_dump_metric_writes_npz(tmp_path):
    out = tmp_path / 'f.npz'
    metric = DumpReIDFeatures(str(out))
    metric.process({}, [_sample([1., 0.], 1, 0, img_path=['a.jpg', 'b.jpg'])])
    metric.evaluate(1)
    with np.load(out, allow_pickle=False) as npz:
        assert npz['img_paths'].tolist() == [['a.jpg', 'b.jpg']]
    assert FeatureSet.load(str(out)).img_paths == [['a.jpg', 'b.jpg']]


def test_dump_metric_builds_from_a_config(tmp_path):
    init_default_scope('mmieee')
    metric = METRICS.build(
        dict(type='DumpReIDFeatures', out_file=str(tmp_path / 'f.pkl')))
    assert isinstance(metric, DumpReIDFeatures)
