# Copyright (c) mmieee contributors.
import os.path as osp

import numpy as np
import pytest

from mmieee.datasets import RGBNT100
from mmieee.testing import generate_synthetic_dataset
from mmieee.testing.synthetic import render_sample

W = 8  # width of one modality in the synthetic files


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp('syn')
    return generate_synthetic_dataset(
        str(out), num_train_ids=3, num_test_ids=2, num_cameras=3,
        images_per_id_per_camera=2, height=16, width=W, seed=3,
        layout='rgbnt100', ext='png')['root']


def test_train_parsing_and_slices(root):
    ds = RGBNT100(root, split='train', tile_width=W)
    assert len(ds) == 3 * 3 * 2
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert len(info['img_path']) == 3
        assert len(set(info['img_path'])) == 1  # one file, 3 modalities
        assert info['modality_slices'] == [(0, W), (W, 2 * W), (2 * W, 3 * W)]
        assert info['gt_label'] == info['pid'] - 1
        name = osp.basename(info['img_path'][0])
        assert name.startswith(f"{info['pid']:04d}_c{info['camid'] + 1:04d}")
    assert {ds.get_data_info(i)['camid'] for i in range(len(ds))} == {0, 1, 2}


def test_default_slices_are_the_released_768_wide_files(root):
    ds = RGBNT100(root, modalities=('TI', 'RGB'))
    assert ds.get_data_info(0)['modality_slices'] == [(512, 768), (0, 256)]
    ds = RGBNT100(root, modalities=('NI', ))
    assert ds.get_data_info(0)['modality_slices'] == [(256, 512)]


def test_test_split_flags(root):
    ds = RGBNT100(root, split='test', tile_width=W)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    q = [i for i in infos if i['is_query']]
    g = [i for i in infos if i['is_gallery']]
    assert len(q) == 2 * 3 and len(g) == 2 * 3
    assert all('/rgbir/query/' in i['img_path'][0] for i in q)
    assert all('/rgbir/bounding_box_test/' in i['img_path'][0] for i in g)
    assert not any(i['is_query'] and i['is_gallery'] for i in infos)


@pytest.mark.parametrize('modalities', [None, ('TI', 'NI'), ('RGB', 'TI')])
def test_loader_crops_each_modality(root, modalities):
    """LoadMultiModalImages + modality_slices give back each rendering."""
    from mmieee.datasets.transforms import LoadMultiModalImages
    ds = RGBNT100(root, split='train', tile_width=W, modalities=modalities,
                  pipeline=[LoadMultiModalImages()])
    out = ds[5]
    info = ds.get_data_info(5)
    k = int(osp.basename(info['img_path'][0])[-7:-4])
    ref = render_sample(3, info['pid'], info['camid'], k, 16, W)
    mods = modalities or ('RGB', 'NI', 'TI')
    assert len(out['img']) == len(mods)
    for img, m in zip(out['img'], mods):
        np.testing.assert_array_equal(img, ref[m])


def test_documented_example_name(tmp_path, write_files):
    write_files(tmp_path, ['rgbir/bounding_box_train/0561_c0001_006.jpg',
                           'rgbir/bounding_box_train/0561_c0008_001.jpg'])
    ds = RGBNT100(str(tmp_path))
    assert [(ds.get_data_info(i)['pid'], ds.get_data_info(i)['camid'])
            for i in range(2)] == [(561, 0), (561, 7)]


def test_errors(tmp_path, write_files):
    with pytest.raises(FileNotFoundError) as err:
        RGBNT100(str(tmp_path / 'RGBNT100'))
    assert ('<data_root>/{rgbir/bounding_box_train,rgbir/query,'
            'rgbir/bounding_box_test}') in str(err.value)
    assert 'docs/datasets.md' in str(err.value)
    write_files(tmp_path, ['rgbir/bounding_box_train/car_12.jpg'])
    with pytest.raises(ValueError) as err:
        RGBNT100(str(tmp_path))
    assert 'car_12.jpg' in str(err.value)
    assert f"r'{RGBNT100.LAYOUT.name_pattern}'" in str(err.value)
    with pytest.raises(FileNotFoundError, match='bounding_box_test'):
        write_files(tmp_path, ['rgbir/query/0561_c0001_006.jpg'])
        RGBNT100(str(tmp_path), split='test')
    with pytest.raises(ValueError, match='tile_width'):
        RGBNT100(str(tmp_path), tile_width=0)
    with pytest.raises(ValueError, match="available modalities"):
        RGBNT100(str(tmp_path), modalities=('IR', ))


def test_empty_split(tmp_path):
    (tmp_path / 'rgbir' / 'bounding_box_train').mkdir(parents=True)
    with pytest.raises(ValueError, match='holds no sample'):
        RGBNT100(str(tmp_path))


def test_file_of_another_width_is_an_error_naming_it(root):
    """A file wider than 3 x tile_width would be cut at the wrong places
    (the "RGB" tile would be padding and NI would get RGB)."""
    from mmieee.datasets.transforms import LoadMultiModalImages
    ds = RGBNT100(root, split='train', tile_width=W - 2,
                  pipeline=[LoadMultiModalImages()])
    info = ds.get_data_info(0)
    assert info['img_width'] == 3 * (W - 2)
    with pytest.raises(ValueError) as err:
        ds[0]
    msg = str(err.value)
    assert info['img_path'][0] in msg
    assert f'is {3 * W} pixels wide' in msg and f'{3 * (W - 2)}' in msg
