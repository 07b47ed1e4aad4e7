# Copyright (c) mmieee contributors.
import os.path as osp

import pytest

from mmieee.datasets import MultiModalFolderDataset
from mmieee.registry import DATASETS


def test_default_layout(tmp_path, triplets):
    triplets(tmp_path, 'train', ['0002_c1_a.jpg', '0001_c0_b.jpg',
                                 '-1_c0_junk.jpg'])
    triplets(tmp_path, 'query', ['0003_c0_a.jpg'])
    triplets(tmp_path, 'gallery', ['0003_c1_a.jpg', '0004_c2_a.jpg'])
    ds = MultiModalFolderDataset(str(tmp_path))
    assert [(ds.get_data_info(i)['pid'], ds.get_data_info(i)['camid'],
             ds.get_data_info(i)['gt_label']) for i in range(len(ds))] == \
        [(1, 0, 0), (2, 1, 1)]
    test = MultiModalFolderDataset(str(tmp_path), split='test')
    flags = [(test.get_data_info(i)['pid'], test.get_data_info(i)['is_query'],
              test.get_data_info(i)['is_gallery']) for i in range(len(test))]
    assert flags == [(3, True, False), (3, False, True), (4, False, True)]


def test_custom_folders_regex_scene_and_same_query_gallery(tmp_path,
                                                           triplets):
    names = ['p12-cam1-sc3.png', 'p12-cam2-sc4.png', 'p5-cam1-sc3.png']
    triplets(tmp_path, 'tr', names, modalities=('visible', 'thermal'))
    triplets(tmp_path, 'te', names[:2], modalities=('visible', 'thermal'))
    kwargs = dict(
        modality_folders=dict(RGB='visible', TI='thermal'),
        name_pattern=r'p(?P<pid>\d+)-cam(?P<camid>\d+)-sc(?P<sceneid>\d+)'
        r'\.png',
        split_folders=dict(train='tr', query='te', gallery='te'),
        camid_base=1,
        dataset_name='MyData')
    ds = MultiModalFolderDataset(str(tmp_path), **kwargs)
    assert ds.metainfo['modalities'] == ('RGB', 'TI')
    assert ds.metainfo['dataset_name'] == 'MyData'
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [(i['pid'], i['camid'], i['sceneid'], i['gt_label'])
            for i in infos] == [(12, 0, 3, 1), (12, 1, 4, 1), (5, 0, 3, 0)]
    assert [osp.basename(osp.dirname(p)) for p in infos[0]['img_path']] == \
        ['visible', 'thermal']
    rev = MultiModalFolderDataset(str(tmp_path), modalities=('TI', 'RGB'),
                                  **kwargs)
    assert [osp.basename(osp.dirname(p))
            for p in rev.get_data_info(0)['img_path']] == \
        ['thermal', 'visible']
    test = MultiModalFolderDataset(str(tmp_path), split='test', **kwargs)
    assert len(test) == 2
    assert all(test.get_data_info(i)['is_query']
               and test.get_data_info(i)['is_gallery'] for i in range(2))
    with pytest.raises(ValueError) as err:
        MultiModalFolderDataset(str(tmp_path), modalities=('NI', ), **kwargs)
    assert "available modalities: ('RGB', 'TI')" in str(err.value)


def test_modality_folders_as_names(tmp_path, triplets):
    triplets(tmp_path, 'train', ['1_c0.jpg'], modalities=('A', 'B'))
    ds = DATASETS.build(dict(type='MultiModalFolderDataset',
                             data_root=str(tmp_path),
                             modality_folders=['A', 'B'],
                             modalities=['B']))
    assert ds.get_data_info(0)['img_path'][0].endswith(
        osp.join('train', 'B', '1_c0.jpg'))


def test_bad_inputs(tmp_path, triplets):
    with pytest.raises(ValueError, match="no named group 'camid'"):
        MultiModalFolderDataset(str(tmp_path),
                                name_pattern=r'(?P<pid>\d+).*')
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['test'\]"):
        MultiModalFolderDataset(str(tmp_path), split_folders=dict(test='x'))
    with pytest.raises(FileNotFoundError) as err:
        MultiModalFolderDataset(str(tmp_path / 'none'))
    assert '<data_root>/{train,query,gallery}/{RGB,NI,TI}/<name>' in \
        str(err.value)
    triplets(tmp_path, 'train', ['0001_c0.jpg', 'bad.jpg'])
    with pytest.raises(ValueError) as err:
        MultiModalFolderDataset(str(tmp_path))
    assert osp.join(str(tmp_path), 'train', 'RGB', 'bad.jpg') in \
        str(err.value)
    assert r"r'(?P<pid>-?\d+)_c(?P<camid>\d+).*'" in str(err.value)
