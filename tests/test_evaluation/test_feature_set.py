# Copyright (c) mmieee contributors.
"""The sample record and the feature set: stacking, views, and the one
feature-file format (round trips, and files that are refused)."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmieee.evaluation import FeatureSet, sample_record
from mmieee.utils import UnsafeCheckpointError


def _sample(feat, pid, camid, **extra):
    s = DataSample(metainfo=dict(pid=pid, camid=camid, is_query=True,
                                 is_gallery=False, **extra))
    s.pred_feature = torch.tensor(feat)
    return s


def test_record_of_a_data_sample():
    rec = sample_record(_sample([1., 2.], torch.tensor(5), 0,
                                img_path=('a.jpg', 'b.jpg'), sample_idx=3))
    assert rec['pred_feature'].tolist() == [1., 2.]
    assert rec['pred_feature'].dtype == torch.float32
    assert (rec['pid'], rec['camid'], rec['sample_idx']) == (5, 0, 3)
    assert rec['is_query'] is True and rec['is_gallery'] is False
    assert rec['img_path'] == ['a.jpg', 'b.jpg']
    with pytest.raises(KeyError, match='pred_feature'):
        sample_record(DataSample())


def test_from_samples_stacks_rows_and_metadata():
    out = FeatureSet.from_samples([
        _sample([1., 2.], 5, 0, sceneid=3),
        _sample([3., 4.], 6, 1, sceneid=4).to_dict()
    ])
    np.testing.assert_array_equal(out.feats, [[1, 2], [3, 4]])
    assert out.feats.dtype == np.float32
    assert out.pids.tolist() == [5, 6] and out.pids.dtype == np.int64
    assert out.camids.tolist() == [0, 1]
    assert out.sceneids.tolist() == [3, 4]
    assert out.is_query.dtype == bool
    # a key only some samples have is left out
    out = FeatureSet.from_samples(
        [_sample([1.], 5, 0, sceneid=3),
         _sample([2.], 5, 0)])
    assert out.sceneids is None
    with pytest.raises(ValueError, match='different sizes'):
        FeatureSet.from_samples([_sample([1.], 5, 0),
                                 _sample([1., 2.], 5, 0)])
    with pytest.raises(ValueError, match='no samples'):
        FeatureSet.from_samples([])


def test_select_and_query_gallery():
    fs = FeatureSet(
        feats=np.arange(8, dtype=np.float32).reshape(4, 2),
        gallery_feats=-np.arange(8, dtype=np.float32).reshape(4, 2),
        pids=[1, 1, 2, 2], is_query=[1, 0, 1, 0], is_gallery=[0, 1, 1, 1],
        img_paths=[['0'], ['1'], ['2'], ['3']])
    query, gallery = fs.query_gallery()
    assert query.feats[:, 0].tolist() == [0., 4.]
    assert gallery.feats[:, 0].tolist() == [-2., -4., -6.]
    assert gallery.img_paths == [['1'], ['2'], ['3']]
    assert gallery.pids.tolist() == [1, 2, 2]
    with pytest.raises(ValueError, match='0 query and 2 gallery'):
        fs.select([1, 3]).query_gallery()


def test_bad_shapes_are_refused_naming_the_field():
    with pytest.raises(ValueError, match=r'"feats" must be \(N, D\)'):
        FeatureSet(np.zeros(3))
    with pytest.raises(ValueError, match='"pids" must be 2 integers'):
        FeatureSet(np.zeros((2, 3)), pids=[1, 2, 3])
    with pytest.raises(ValueError, match='"camids" must be 2 integers'):
        FeatureSet(np.zeros((2, 3)), camids=[0.5, 1.5])
    with pytest.raises(ValueError, match='"img_paths" has 1 entries'):
        FeatureSet(np.zeros((2, 3)), img_paths=[['a']])


@pytest.mark.parametrize('suffix', ['.npz', '.pkl'])
def test_save_load_round_trip(tmp_path, suffix):
    fs = FeatureSet(
        feats=np.random.default_rng(0).normal(size=(3, 4)),
        pids=[1, 2, 3], camids=[0, 0, 1], is_query=[True, False, True],
        img_paths=[['a', 'b'], ['c', 'd'], ['e', 'f']])
    path = str(tmp_path / 'sub' / f'f{suffix}')
    fs.save(path, meta=dict(key='k'))
    back, meta = FeatureSet.load_with_meta(path)
    assert meta == dict(key='k')
    assert back.source == path
    for name in ('feats', 'pids', 'camids', 'is_query'):
        got, want = getattr(back, name), getattr(fs, name)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert back.is_gallery is None and back.sceneids is None
    assert back.img_paths == fs.img_paths
    assert not [n for n in os.listdir(tmp_path / 'sub') if 'partial' in n]


def test_files_that_could_run_code_are_refused(tmp_path):
    marker = tmp_path / 'ran'

    class Evil:
        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps({'feats': Evil()}))
    with pytest.raises(UnsafeCheckpointError,
                       match=r'evil.pkl: it holds a posix.system'):
        FeatureSet.load(str(path))
    assert not marker.exists()
    # an object array (numpy trusts its state; a short one crashes)
    obj = tmp_path / 'obj.pkl'
    obj.write_bytes(pickle.dumps({'feats': np.array([1, 'x'], object)}))
    with pytest.raises(UnsafeCheckpointError, match='dtype object'):
        FeatureSet.load(str(obj))
    npz = tmp_path / 'obj.npz'
    np.savez(npz, feats=np.array([[1, 'x']], object))
    with pytest.raises(ValueError, match='obj.npz'):
        FeatureSet.load(str(npz))


def test_not_a_feature_file(tmp_path):
    path = tmp_path / 'list.pkl'
    path.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ValueError, match='not a feature file.*holds a list'):
        FeatureSet.load(str(path))
    path = tmp_path / 'odd.npz'
    np.savez(path, feats=np.zeros((1, 2)), extra=np.zeros(1))
    with pytest.raises(ValueError, match=r"unknown feature-file keys "
                       r"\['extra'\]"):
        FeatureSet.load(str(path))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        FeatureSet.load(str(tmp_path / 'none.npz'))
    with pytest.raises(ValueError, match='must end with one of'):
        FeatureSet.load(str(tmp_path / 'f.json'))
