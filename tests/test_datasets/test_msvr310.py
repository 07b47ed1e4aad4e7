# Copyright (c) mmieee contributors.
import os
import os.path as osp

import pytest

from mmieee.datasets import MSVR310
from mmieee.testing import generate_synthetic_dataset


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp('syn')
    return generate_synthetic_dataset(
        str(out), num_train_ids=3, num_test_ids=2, num_cameras=2,
        images_per_id_per_camera=3, height=16, width=8, seed=4,
        layout='msvr310')['root']


def test_train_parsing(root):
    ds = MSVR310(root, split='train')
    assert len(ds) == 3 * 2 * 3
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['gt_label'] == info['pid'] - 1
        assert info['camid'] in (0, 1)
        assert info['sceneid'] in (1, 2, 3)
        assert [p.split(os.sep)[-2] for p in info['img_path']] == \
            ['vis', 'ni', 'th']
        assert info['img_path'][0].split(os.sep)[-3] == f"{info['pid']:04d}"


def test_test_split_flags_and_scenes(root):
    ds = MSVR310(root, split='test', modalities=('TI', 'RGB'))
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    q = [i for i in infos if i['is_query']]
    g = [i for i in infos if i['is_gallery']]
    assert len(q) == 2 * 2 and len(g) == 2 * 2 * 2
    assert all('/query3/' in i['img_path'][0] for i in q)
    assert all('/bounding_box_test/' in i['img_path'][0] for i in g)
    assert {i['sceneid'] for i in q} == {1}
    assert {i['sceneid'] for i in g} == {2, 3}
    assert [p.split(os.sep)[-2] for p in infos[0]['img_path']] == \
        ['th', 'vis']


def test_design_example(tmp_path, triplets):
    triplets(tmp_path, 'bounding_box_train/0019', ['0019_s012_v0_000.jpg'],
             modalities=('vis', 'ni', 'th'))
    info = MSVR310(str(tmp_path)).get_data_info(0)
    assert (info['pid'], info['sceneid'], info['camid'],
            info['gt_label']) == (19, 12, 0, 0)


def test_vid_folder_must_match_file(tmp_path, triplets):
    triplets(tmp_path, 'bounding_box_train/0020', ['0019_s012_v0_000.jpg'],
             modalities=('vis', 'ni', 'th'))
    with pytest.raises(ValueError,
                       match='has id 19 but lies in the folder of id 20'):
        MSVR310(str(tmp_path))


def test_non_digit_vid_folder(tmp_path, triplets):
    triplets(tmp_path, 'bounding_box_train/car', ['0019_s012_v0_000.jpg'],
             modalities=('vis', 'ni', 'th'))
    with pytest.raises(ValueError, match='not an identity folder'):
        MSVR310(str(tmp_path))


def test_missing_th_file(tmp_path, triplets):
    triplets(tmp_path, 'bounding_box_train/0019',
             ['0019_s012_v0_000.jpg', '0019_s012_v1_000.jpg'],
             modalities=('vis', 'ni', 'th'))
    os.remove(tmp_path / 'bounding_box_train/0019/th/0019_s012_v1_000.jpg')
    with pytest.raises(FileNotFoundError) as err:
        MSVR310(str(tmp_path))
    assert '1 file(s) missing' in str(err.value)
    assert osp.join('0019', 'th', '0019_s012_v1_000.jpg') in str(err.value)
    assert len(MSVR310(str(tmp_path), modalities=('RGB', 'NI'))) == 2


def test_bad_name_and_missing_root(tmp_path, triplets):
    with pytest.raises(FileNotFoundError) as err:
        MSVR310(str(tmp_path / 'MSVR310'))
    assert '{vis,ni,th}' in str(err.value)
    assert 'docs/datasets.md' in str(err.value)
    triplets(tmp_path, 'bounding_box_train/0019', ['0019_v0_s012.jpg'],
             modalities=('vis', 'ni', 'th'))
    with pytest.raises(ValueError) as err:
        MSVR310(str(tmp_path))
    assert '0019_v0_s012.jpg' in str(err.value)
    assert MSVR310.LAYOUT.example_name() in str(err.value)


def test_empty_split(tmp_path):
    (tmp_path / 'bounding_box_train').mkdir()
    with pytest.raises(ValueError, match='holds no sample'):
        MSVR310(str(tmp_path))
