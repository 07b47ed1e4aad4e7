# Copyright (c) mmieee contributors.
import os
import os.path as osp
import re

import pytest

from mmieee.datasets import RGBNT201
from mmieee.registry import DATASETS
from mmieee.testing import generate_synthetic_dataset


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp('syn')
    info = generate_synthetic_dataset(
        str(out), num_train_ids=3, num_test_ids=2, num_cameras=2,
        images_per_id_per_camera=2, height=16, width=8, seed=1)
    return info['root']


def _folder(path):
    return osp.basename(osp.dirname(path))


def test_train_split_counts_pids_camids_labels(root):
    ds = RGBNT201(root, split='train')
    assert len(ds) == 3 * 2 * 2
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert sorted({i['pid'] for i in infos}) == [1, 2, 3]
    assert sorted({i['camid'] for i in infos}) == [0, 1]  # cam1, cam2
    for info in infos:
        assert info['gt_label'] == info['pid'] - 1
        name = osp.basename(info['img_path'][0])
        assert int(name[:6]) == info['pid']
        assert int(name.split('_cam')[1][0]) == info['camid'] + 1
        assert [_folder(p) for p in info['img_path']] == ['RGB', 'NI', 'TI']
        assert len({osp.basename(p) for p in info['img_path']}) == 1
        assert 'is_query' not in info
    assert ds.metainfo['modalities'] == ('RGB', 'NI', 'TI')
    assert ds.metainfo['num_ids'] == 3
    assert ds.metainfo['classes'] == ('1', '2', '3')
    assert ds.get_gt_labels().tolist() == [i['gt_label'] for i in infos]
    assert ds.get_cat_ids(5) == [infos[5]['gt_label']]
    assert not ds.test_mode


def test_test_split_every_sample_query_and_gallery(root):
    ds = RGBNT201(root, split='test')
    assert len(ds) == 2 * 2 * 2
    assert ds.test_mode
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['is_query'] is True and info['is_gallery'] is True
        assert info['pid'] in (4, 5)
        assert info['gt_label'] == info['pid']
        assert '/test/' in info['img_path'][0]


def test_example_name_from_design(tmp_path, triplets):
    triplets(tmp_path, 'train_171', ['000287_cam1_0_05.jpg'])
    info = RGBNT201(str(tmp_path)).get_data_info(0)
    assert (info['pid'], info['camid'], info['gt_label']) == (287, 0, 0)


def test_relabel_contiguous_sorted_and_deterministic(tmp_path, triplets):
    # Written in a scrambled order; pids far apart.
    names = ['000300_cam2_0_00.jpg', '000005_cam1_0_00.jpg',
             '000017_cam3_0_01.jpg', '000300_cam1_0_00.jpg',
             '000017_cam4_0_00.jpg']
    triplets(tmp_path, 'train_171', names)
    a = RGBNT201(str(tmp_path))
    b = RGBNT201(str(tmp_path), serialize_data=False)
    la = {a.get_data_info(i)['pid']: a.get_data_info(i)['gt_label']
          for i in range(len(a))}
    assert la == {5: 0, 17: 1, 300: 2}
    assert [a.get_data_info(i) for i in range(len(a))] == \
        [b.get_data_info(i) for i in range(len(b))]
    # Samples are listed in sorted file-name order.
    assert [osp.basename(a.get_data_info(i)['img_path'][0])
            for i in range(len(a))] == sorted(names)
    assert a.get_data_info(0)['camid'] == 0
    assert {a.get_data_info(i)['camid'] for i in range(len(a))} == {0, 1, 2,
                                                                    3}


@pytest.mark.parametrize('modalities', [('RGB', 'TI'), ('TI', 'RGB'),
                                        ('TI', 'NI', 'RGB'), ('NI', ),
                                        'TI'])
def test_modalities_select_and_order(root, modalities):
    ds = RGBNT201(root, split='train', modalities=modalities)
    expect = (modalities, ) if isinstance(modalities, str) else modalities
    assert ds.metainfo['modalities'] == expect
    info = ds.get_data_info(3)
    assert [_folder(p) for p in info['img_path']] == list(expect)
    # the order travels with every sample, so packed data samples carry it
    assert info['modalities'] == tuple(expect)


def test_two_modalities_need_only_their_folders(tmp_path, triplets):
    triplets(tmp_path, 'train_171', ['000001_cam1_0_00.jpg'],
             modalities=('RGB', 'TI'))
    ds = RGBNT201(str(tmp_path), modalities=('RGB', 'TI'))
    assert len(ds) == 1
    with pytest.raises(FileNotFoundError, match='NI modality folder'):
        RGBNT201(str(tmp_path))


def test_unknown_modality_lists_available(root):
    with pytest.raises(ValueError) as err:
        RGBNT201(root, modalities=('RGB', 'depth'))
    msg = str(err.value)
    assert "'depth'" in msg and "('RGB', 'NI', 'TI')" in msg
    with pytest.raises(ValueError, match='twice'):
        RGBNT201(root, modalities=('RGB', 'RGB'))
    with pytest.raises(ValueError, match='empty'):
        RGBNT201(root, modalities=())


def test_bad_split_value(root):
    with pytest.raises(ValueError, match=r"split='val' is not 'train' or"):
        RGBNT201(root, split='val')


def test_missing_data_root(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'RGBNT201')
    with pytest.raises(FileNotFoundError) as err:
        RGBNT201(missing)
    msg = str(err.value)
    assert missing in msg
    assert '<data_root>/{train_171,test}/{RGB,NI,TI}/' in msg
    assert 'see docs/datasets.md' in msg


def test_missing_split_folder(tmp_path, triplets):
    triplets(tmp_path, 'train_171', ['000001_cam1_0_00.jpg'])
    assert len(RGBNT201(str(tmp_path), split='train')) == 1
    with pytest.raises(FileNotFoundError) as err:
        RGBNT201(str(tmp_path), split='test')
    msg = str(err.value)
    assert osp.join(str(tmp_path), 'test') in msg
    assert "'test' split folder" in msg
    assert 'docs/datasets.md' in msg and 'Expected layout' in msg


def test_missing_other_modality_files_listed_with_count(tmp_path, triplets):
    names = [f'{pid:06d}_cam1_0_00.jpg' for pid in range(1, 9)]
    triplets(tmp_path, 'train_171', names)
    for n in names[:7]:  # 7 NI files gone
        os.remove(tmp_path / 'train_171' / 'NI' / n)
    os.remove(tmp_path / 'train_171' / 'TI' / names[7])
    with pytest.raises(FileNotFoundError) as err:
        RGBNT201(str(tmp_path))
    msg = str(err.value)
    assert '8 file(s) missing' in msg
    assert ', ... (3 more)' in msg
    assert osp.join(str(tmp_path), 'train_171', 'NI', names[0]) in msg
    assert names[7] not in msg  # only the first 5 listed
    # selecting the complete modalities only is fine
    assert len(RGBNT201(str(tmp_path), modalities=('RGB', ))) == 8


def test_missing_file_in_rgb_folder_also_reported(tmp_path, triplets):
    triplets(tmp_path, 'train_171', ['000001_cam1_0_00.jpg'])
    triplets(tmp_path, 'train_171', ['000002_cam1_0_00.jpg'],
             modalities=('NI', 'TI'))
    with pytest.raises(FileNotFoundError) as err:
        RGBNT201(str(tmp_path))
    assert osp.join(str(tmp_path), 'train_171', 'RGB',
                    '000002_cam1_0_00.jpg') in str(err.value)
    assert '1 file(s) missing' in str(err.value)


@pytest.mark.parametrize('bad', ['img_0001.jpg', '000001-cam1-0-00.jpg',
                                 'x000001_cam1_0_00.jpg'])
def test_bad_file_name_names_file_and_rule(tmp_path, triplets, bad):
    triplets(tmp_path, 'train_171', ['000001_cam1_0_00.jpg', bad])
    with pytest.raises(ValueError) as err:
        RGBNT201(str(tmp_path))
    msg = str(err.value)
    assert osp.join(str(tmp_path), 'train_171', 'RGB', bad) in msg
    assert f"r'{RGBNT201.LAYOUT.name_pattern}'" in msg
    assert '1 file(s) break the rule' in msg
    assert '000287_cam1_0_05.jpg' in msg


def test_camera_zero_is_rejected(tmp_path, triplets):
    triplets(tmp_path, 'train_171', ['000001_cam0_0_00.jpg'])
    with pytest.raises(ValueError, match='camera numbers start at 1'):
        RGBNT201(str(tmp_path))


def test_non_image_files_are_ignored(tmp_path, triplets, write_files):
    triplets(tmp_path, 'train_171', ['000001_cam1_0_00.jpg'])
    write_files(tmp_path, ['train_171/RGB/Thumbs.db',
                           'train_171/NI/.hidden.jpg', 'train_171/readme.txt'])
    assert len(RGBNT201(str(tmp_path))) == 1


def test_empty_split(tmp_path):
    for m in ('RGB', 'NI', 'TI'):
        os.makedirs(tmp_path / 'train_171' / m)
    with pytest.raises(ValueError) as err:
        RGBNT201(str(tmp_path))
    assert re.search(r'holds no sample', str(err.value))
    assert osp.join(str(tmp_path), 'train_171') in str(err.value)


def test_build_from_registry(root):
    ds = DATASETS.build(
        dict(type='RGBNT201', data_root=root, split='test',
             modalities=['RGB', 'TI']))
    assert isinstance(ds, RGBNT201)
    assert ds.metainfo['modalities'] == ('RGB', 'TI')
