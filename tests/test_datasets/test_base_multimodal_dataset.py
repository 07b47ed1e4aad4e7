# Copyright (c) mmieee contributors.
"""Shared behaviour of BaseMultiModalReIDDataset (through RGBNT201)."""
import os

import pytest

from mmieee.datasets import RGBNT201, BaseMultiModalReIDDataset
from mmieee.registry import DATASETS

NAMES = ['000003_cam1_0_00.jpg', '000003_cam2_0_00.jpg',
         '000009_cam1_0_00.jpg', '000011_cam2_0_01.jpg']


@pytest.fixture
def root(tmp_path, triplets):
    triplets(tmp_path, 'train_171', NAMES)
    triplets(tmp_path, 'test', NAMES[:2])
    return str(tmp_path)


def test_registered():
    assert DATASETS.get('BaseMultiModalReIDDataset') is \
        BaseMultiModalReIDDataset
    for name in ('RGBNT201', 'Market1501MM', 'RGBNT100', 'MSVR310',
                 'MultiModalFolderDataset'):
        assert DATASETS.get(name) is not None, name


def test_lazy_init_defers_scanning(tmp_path, triplets):
    root = tmp_path / 'later'
    ds = RGBNT201(str(root), lazy_init=True)  # nothing on disk yet: no error
    assert not ds._fully_initialized
    assert ds.metainfo['modalities'] == ('RGB', 'NI', 'TI')
    triplets(root, 'train_171', NAMES)
    assert len(ds) == 4  # __len__ forces full_init
    assert ds._fully_initialized
    assert ds.metainfo['num_ids'] == 3
    with pytest.raises(FileNotFoundError):
        RGBNT201(str(tmp_path / 'never'), lazy_init=True).full_init()


@pytest.mark.parametrize('serialize', [True, False])
def test_serialize_data_same_infos(root, serialize):
    ds = RGBNT201(root, serialize_data=serialize)
    ref = RGBNT201(root, serialize_data=not serialize)
    assert [ds.get_data_info(i) for i in range(4)] == \
        [ref.get_data_info(i) for i in range(4)]
    assert hasattr(ds, 'data_bytes') == serialize


def test_pipeline_and_getitem(root):
    seen = []

    def pipeline(results):
        seen.append(results)
        return dict(pid=results['pid'], n=len(results['img_path']))

    ds = RGBNT201(root, pipeline=[pipeline], modalities=('NI', 'TI'))
    assert ds[2] == dict(pid=9, n=2)
    assert seen[0]['sample_idx'] == 2


def test_indices_subset_keeps_full_relabelling(root):
    ds = RGBNT201(root, indices=[2, 3])
    assert len(ds) == 2
    assert [ds.get_data_info(i)['gt_label'] for i in range(2)] == [1, 2]
    assert ds.get_pids().tolist() == [9, 11]


def test_test_mode_follows_split_unless_given(root):
    assert RGBNT201(root, split='test').test_mode
    assert not RGBNT201(root, split='test', test_mode=False).test_mode
    assert RGBNT201(root, split='train', test_mode=True).test_mode


def test_metainfo_and_repr(root):
    ds = RGBNT201(root, metainfo=dict(note=1), modalities=['TI', 'RGB'])
    meta = ds.metainfo
    assert meta['modalities'] == ('TI', 'RGB')
    assert meta['dataset_name'] == 'RGBNT201' and meta['split'] == 'train'
    assert meta['note'] == 1
    assert meta['classes'] == ('3', '9', '11') and meta['num_ids'] == 3
    assert meta['num_cameras'] == 2
    assert 'num_samples=4' in repr(ds)


def test_data_root_type(tmp_path):
    with pytest.raises(TypeError, match='data_root must be a path'):
        RGBNT201(None)
    # pathlib paths are fine
    with pytest.raises(FileNotFoundError):
        RGBNT201(tmp_path / 'x')


@pytest.mark.parametrize('kind', ['dangling', 'looping'])
def test_broken_symlinks_are_errors_listing_them(tmp_path, triplets, kind):
    triplets(tmp_path, 'train_171', ['000001_cam1_0_00.jpg'])
    for m in ('RGB', 'NI', 'TI'):
        link = tmp_path / 'train_171' / m / '000002_cam1_0_00.jpg'
        if kind == 'dangling':
            os.symlink(tmp_path / 'nowhere.jpg', link)
        else:
            os.symlink(link, link)
    with pytest.raises(FileNotFoundError) as err:
        RGBNT201(str(tmp_path))
    msg = str(err.value)
    assert '1 image file(s) are symbolic links that lead nowhere' in msg
    assert '000002_cam1_0_00.jpg' in msg
