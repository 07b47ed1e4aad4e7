# Copyright (c) mmieee contributors.
"""WMVEID863 in the layout of its release (identity folders, camera from
``v<digit>``), DeMo's flat copy through layout arguments, every broken
layout an error naming the path, and the dataset base config."""
import os
import os.path as osp
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmieee.datasets import WMVEID863
from mmieee.registry import DATASETS, METRICS
from mmieee.testing import generate_synthetic_dataset

REPO = Path(__file__).resolve().parents[2]
VEHICLE = ('vis', 'ni', 'th')


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp('syn')
    return generate_synthetic_dataset(
        str(out), num_train_ids=3, num_test_ids=2, num_cameras=3,
        images_per_id_per_camera=2, height=16, width=8, seed=5,
        layout='wmveid863')['root']


def test_synthetic_tree_is_the_release_layout(root):
    assert osp.basename(root) == 'WMVEID863'
    assert sorted(os.listdir(root)) == ['query', 'test', 'train']
    assert sorted(os.listdir(osp.join(root, 'train'))) == [
        '0001', '0002', '0003']
    names = sorted(os.listdir(osp.join(root, 'train', '0002', 'th')))
    assert names[0] == '0002_v0_n0_000.jpg' and len(names) == 3 * 2


def test_train_split_reads_ids_from_folders_cameras_from_names(root):
    ds = WMVEID863(root, split='train')
    assert len(ds) == 3 * 3 * 2
    assert ds.metainfo['num_ids'] == 3 and ds.metainfo['num_cameras'] == 3
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        parts = info['img_path'][0].split(os.sep)
        assert info['pid'] == int(parts[-3])  # the <vid> folder
        assert info['camid'] == int(parts[-1].split('_v')[1][0])
        assert info['gt_label'] == info['pid'] - 1
        assert [p.split(os.sep)[-2] for p in info['img_path']] == \
            list(VEHICLE)
        assert len({osp.basename(p) for p in info['img_path']}) == 1


def test_test_split_query_and_gallery(root):
    ds = WMVEID863(root, split='test', modalities=('TI', 'RGB'))
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    query = [i for i in infos if i['is_query']]
    gallery = [i for i in infos if i['is_gallery']]
    # image 0 of each camera of the 2 test ids is a query, the rest gallery
    assert len(query) == 2 * 3 and len(gallery) == 2 * 3
    assert not any(i['is_query'] and i['is_gallery'] for i in infos)
    assert all(f'{os.sep}query{os.sep}' in i['img_path'][0] for i in query)
    assert all(f'{os.sep}test{os.sep}' in i['img_path'][0] for i in gallery)
    assert {i['pid'] for i in query} == {i['pid'] for i in gallery} == {4, 5}
    assert [p.split(os.sep)[-2] for p in infos[0]['img_path']] == \
        ['th', 'vis']


def test_release_name_example(tmp_path, triplets):
    triplets(tmp_path, 'train/0012', ['0012_v3_n1_005.jpg', 'v0_n0_x.png'],
             modalities=VEHICLE)
    ds = WMVEID863(str(tmp_path))
    got = sorted((ds.get_data_info(i)['pid'], ds.get_data_info(i)['camid'])
                 for i in range(len(ds)))
    assert got == [(12, 0), (12, 3)]


@pytest.mark.parametrize('name', [
    '0012_s003_n1_005.jpg',  # no camera
    '0012_v3_005.jpg',  # no night flag
    '0012_V3_n1_005.jpg',  # 'V': the release's loader matches 'v' only
])
def test_bad_name_names_file_and_rule(tmp_path, triplets, name):
    triplets(tmp_path, 'train/0012', [name], modalities=VEHICLE)
    with pytest.raises(ValueError) as err:
        WMVEID863(str(tmp_path))
    msg = str(err.value)
    assert osp.join(str(tmp_path), 'train', '0012', 'vis', name) in msg
    assert WMVEID863.LAYOUT.name_pattern in msg
    assert WMVEID863.LAYOUT.example_name() in msg


def test_missing_data_root_split_and_modality_folder(tmp_path, triplets):
    with pytest.raises(FileNotFoundError) as err:
        WMVEID863(str(tmp_path / 'WMVEID863'))
    msg = str(err.value)
    assert repr(str(tmp_path / 'WMVEID863')) in msg
    assert '<data_root>/{train,query,test}/<pid>/{vis,ni,th}/<name>' in msg
    assert 'the <pid> folder gives the identity' in msg
    assert 'docs/datasets.md' in msg and 'Mzq12138' in msg
    triplets(tmp_path, 'train/0012', ['0012_v3_n1_005.jpg'],
             modalities=VEHICLE)
    triplets(tmp_path, 'test/0013', ['0013_v1_n0_000.jpg'],
             modalities=VEHICLE)
    with pytest.raises(FileNotFoundError) as err:
        WMVEID863(str(tmp_path), split='test')
    assert repr(str(tmp_path / 'query')) in str(err.value)
    assert "'test' split folder" in str(err.value)
    triplets(tmp_path, 'query/0013', ['0013_v0_n0_000.jpg'],
             modalities=('vis', 'ni'))  # no th folder
    with pytest.raises(FileNotFoundError) as err:
        WMVEID863(str(tmp_path), split='test')
    assert repr(str(tmp_path / 'query' / '0013' / 'th')) in str(err.value)
    assert 'TI modality folder' in str(err.value)
    assert len(WMVEID863(str(tmp_path), split='test',
                         modalities=('RGB', 'NI'))) == 2


def test_missing_modality_file_is_named(tmp_path, triplets):
    triplets(tmp_path, 'train/0012',
             ['0012_v3_n1_005.jpg', '0012_v4_n1_006.jpg'],
             modalities=VEHICLE)
    os.remove(tmp_path / 'train/0012/ni/0012_v4_n1_006.jpg')
    with pytest.raises(FileNotFoundError) as err:
        WMVEID863(str(tmp_path))
    msg = str(err.value)
    assert '1 file(s) missing' in msg
    assert osp.join(str(tmp_path), 'train', '0012', 'ni',
                    '0012_v4_n1_006.jpg') in msg


def test_non_digit_identity_folder(tmp_path, triplets):
    triplets(tmp_path, 'train/car', ['0012_v3_n1_005.jpg'],
             modalities=VEHICLE)
    with pytest.raises(ValueError) as err:
        WMVEID863(str(tmp_path))
    assert repr(str(tmp_path / 'train' / 'car')) in str(err.value)
    assert 'not an identity folder' in str(err.value)


def test_empty_split(tmp_path):
    (tmp_path / 'train' / '0001' / 'vis').mkdir(parents=True)
    (tmp_path / 'train' / '0001' / 'ni').mkdir()
    (tmp_path / 'train' / '0001' / 'th').mkdir()
    with pytest.raises(ValueError) as err:
        WMVEID863(str(tmp_path))
    assert 'holds no sample' in str(err.value)
    assert repr(str(tmp_path / 'train')) in str(err.value)
    (tmp_path / 'empty' / 'train').mkdir(parents=True)
    with pytest.raises(ValueError, match='holds no sample'):
        WMVEID863(str(tmp_path / 'empty'))


def test_demo_flat_copy_through_layout_arguments(tmp_path, triplets):
    """DeMo's MSVWild863.py: flat {train,query,test}/{vis,ni,th}, names
    PPPPPP_camN_*.jpg, camera N - 1."""
    flat = dict(
        dataset_name='MSVWild863',
        id_folder_format=None,
        name_pattern=r'(?P<pid>\d+)_cam(?P<camid>\d)[^/]*\.jpg',
        name_format='{pid:06d}_cam{camera}_0_{index:02d}',
        camid_base=1)
    triplets(tmp_path, 'train', ['000012_cam1_0_01.jpg',
                                 '000012_cam4_0_02.jpg'], modalities=VEHICLE)
    triplets(tmp_path, 'query', ['000020_cam2_0_01.jpg'], modalities=VEHICLE)
    triplets(tmp_path, 'test', ['000020_cam3_0_01.jpg'], modalities=VEHICLE)
    train = WMVEID863(str(tmp_path), **flat)
    assert sorted(train.get_data_info(i)['camid'] for i in range(2)) == [0, 3]
    assert train.name == 'MSVWild863'
    test = WMVEID863(str(tmp_path), split='test', **flat)
    assert [test.get_data_info(i)['is_query'] for i in range(2)] == [
        True, False]
    # names without a pid need identity folders
    with pytest.raises(ValueError, match="no named group 'pid'"):
        WMVEID863(str(tmp_path), id_folder_format=None)


def test_base_config_builds_datasets_and_camera_rule(root):
    cfg = Config.fromfile(
        str(REPO / 'configs' / '_base_' / 'datasets' / 'wmveid863.py'))
    assert cfg.train_dataloader.dataset.data_root == 'data/WMVEID863'
    init_default_scope('mmieee')
    for key in ('train_dataloader', 'test_dataloader'):
        ds_cfg = cfg[key].dataset
        assert ds_cfg.type == 'WMVEID863'
        ds = DATASETS.build(dict(ds_cfg, data_root=root))
        assert ds[0]['inputs'].shape == (3, 3, 128, 256)
    assert cfg.val_evaluator == cfg.test_evaluator == dict(
        type='ReIDMetric', exclude='camera')
    assert METRICS.build(cfg.test_evaluator).protocol.exclude == 'camera'
