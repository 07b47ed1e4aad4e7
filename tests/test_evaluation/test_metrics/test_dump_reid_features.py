# Copyright (c) mmieee contributors.
import pickle

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmieee.evaluation import DumpReIDFeatures, collect_features
from mmieee.registry import METRICS


def _sample(feat, pid, camid, **extra):
    s = DataSample(metainfo=dict(pid=pid, camid=camid, is_query=True,
                                 is_gallery=False, **extra))
    s.pred_feature = torch.tensor(feat)
    return s


def test_collect_features_stacks_rows_and_metadata():
    out = collect_features([
        _sample([1., 2.], 5, 0, sceneid=3),
        _sample([3., 4.], 6, 1, sceneid=4).to_dict()
    ])
    np.testing.assert_array_equal(out['feats'], [[1, 2], [3, 4]])
    assert out['feats'].dtype == np.float32
    assert out['pids'].tolist() == [5, 6]
    assert out['camids'].tolist() == [0, 1]
    assert out['sceneids'].tolist() == [3, 4]
    assert out['is_query'].dtype == bool
    # a key only some samples have is left out
    out = collect_features(
        [_sample([1.], 5, 0, sceneid=3),
         _sample([2.], 5, 0)])
    assert 'sceneids' not in out
    with pytest.raises(ValueError, match='different sizes'):
        collect_features([_sample([1.], 5, 0), _sample([1., 2.], 5, 0)])
    with pytest.raises(KeyError, match='pred_feature'):
        collect_features([DataSample()])


def test_dump_metric_writes_the_feature_set(tmp_path):
    out = tmp_path / 'sub' / 'f.pkl'
    metric = DumpReIDFeatures(str(out))
    metric.process({}, [_sample([1., 0.], 1, 0).to_dict()])
    metric.process({}, [_sample([0., 1.], 2, 1).to_dict()])
    assert metric.evaluate(2) == {}
    with open(out, 'rb') as f:
        d = pickle.load(f)
    assert d['pids'].tolist() == [1, 2]
    with pytest.raises(ValueError, match='must end with .pkl'):
        DumpReIDFeatures(str(tmp_path / 'f.json'))


def test_dump_metric_builds_from_a_config(tmp_path):
    init_default_scope('mmieee')
    metric = METRICS.build(
        dict(type='DumpReIDFeatures', out_file=str(tmp_path / 'f.pkl')))
    assert isinstance(metric, DumpReIDFeatures)
