# Copyright (c) mmieee contributors.
import os.path as osp

import pytest

from mmieee.datasets import Market1501MM
from mmieee.testing import generate_synthetic_dataset


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp('syn')
    return generate_synthetic_dataset(
        str(out), num_train_ids=4, num_test_ids=3, num_cameras=3,
        images_per_id_per_camera=2, height=16, width=8, seed=2,
        layout='market1501mm', num_junk=2, num_distractors=3)['root']


def test_layout_written_by_generator(root):
    for folder in ('train', 'query', 'gallery'):
        for m in ('RGB', 'NI', 'TI'):
            assert osp.isdir(osp.join(root, folder, m))


def test_train(root):
    ds = Market1501MM(root, split='train')
    assert len(ds) == 4 * 3 * 2
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert sorted({i['pid'] for i in infos}) == [1, 2, 3, 4]
    assert {i['camid'] for i in infos} == {0, 1, 2}
    assert all(i['gt_label'] == i['pid'] - 1 for i in infos)
    for info in infos:
        name = osp.basename(info['img_path'][0])
        assert name.startswith(f"{info['pid']:04d}_c{info['camid'] + 1}s")


def test_test_split_query_gallery_junk_distractors(root):
    ds = Market1501MM(root, split='test')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    query = [i for i in infos if i['is_query']]
    gallery = [i for i in infos if i['is_gallery']]
    assert len(query) + len(gallery) == len(infos)  # flags are exclusive
    # query: image 0 of every camera of every test id
    assert len(query) == 3 * 3
    assert all('/query/' in i['img_path'][0] for i in query)
    assert all(not i['is_gallery'] for i in query)
    # query samples come first
    assert [i['is_query'] for i in infos] == \
        [True] * len(query) + [False] * len(gallery)
    # gallery: the rest + 3 distractors (pid 0); the 2 junk (-1) are dropped
    assert len(gallery) == 3 * 3 * 1 + 3
    assert sum(i['pid'] == 0 for i in gallery) == 3
    assert all(i['pid'] != -1 for i in infos)
    assert all(i['gt_label'] == i['pid'] for i in infos)
    assert ds.metainfo['num_ids'] == 4  # 3 ids + distractor id 0


def test_design_example_name_and_junk(tmp_path, triplets):
    triplets(tmp_path, 'train', ['0002_c1s1_000451_03.jpg',
                                 '-1_c3s1_000101_01.jpg',
                                 '0007_c6s4_002202_01.jpg'])
    ds = Market1501MM(str(tmp_path))
    got = [(ds.get_data_info(i)['pid'], ds.get_data_info(i)['camid'],
            ds.get_data_info(i)['gt_label']) for i in range(len(ds))]
    assert got == [(2, 0, 0), (7, 5, 1)]


@pytest.mark.parametrize('modalities', [('TI', 'RGB'), ('NI', 'RGB', 'TI')])
def test_modality_order(root, modalities):
    ds = Market1501MM(root, split='test', modalities=modalities)
    info = ds.get_data_info(0)
    assert [osp.basename(osp.dirname(p))
            for p in info['img_path']] == list(modalities)


def test_missing_gallery_folder(tmp_path, triplets):
    triplets(tmp_path, 'query', ['0002_c1s1_000451_03.jpg'])
    with pytest.raises(FileNotFoundError) as err:
        Market1501MM(str(tmp_path), split='test')
    msg = str(err.value)
    assert osp.join(str(tmp_path), 'gallery') in msg
    assert '<data_root>/{train,query,gallery}/{RGB,NI,TI}/' in msg
    assert 'see docs/datasets.md' in msg


def test_missing_ti_file(tmp_path, triplets):
    triplets(tmp_path, 'train', ['0002_c1s1_000451_03.jpg'],
             modalities=('RGB', 'NI'))
    with pytest.raises(FileNotFoundError) as err:
        Market1501MM(str(tmp_path))
    assert osp.join(str(tmp_path), 'train', 'TI') in str(err.value)


def test_bad_name(tmp_path, triplets):
    triplets(tmp_path, 'train', ['0002_c1s1_000451_03.jpg', 'cam1_0002.jpg'])
    with pytest.raises(ValueError) as err:
        Market1501MM(str(tmp_path))
    assert 'cam1_0002.jpg' in str(err.value)
    assert Market1501MM.LAYOUT.example_name() in str(err.value)
    assert f"r'{Market1501MM.LAYOUT.name_pattern}'" in str(err.value)


def test_only_junk_is_an_empty_split(tmp_path, triplets):
    triplets(tmp_path, 'train', ['-1_c1s1_000451_03.jpg'])
    with pytest.raises(ValueError, match='holds no sample'):
        Market1501MM(str(tmp_path))
