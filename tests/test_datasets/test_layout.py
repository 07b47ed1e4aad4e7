# Copyright (c) mmieee contributors.
"""DatasetLayout: one declaration per dataset, overridable per argument."""
import pytest

from mmieee.datasets import (MSVR310, RGBNT100, RGBNT201, DatasetLayout,
                             Market1501MM, MultiModalFolderDataset)

DATASETS = (RGBNT201, Market1501MM, RGBNT100, MSVR310)


@pytest.mark.parametrize('cls', DATASETS)
def test_each_layout_names_parse_back(cls):
    layout = cls.LAYOUT
    name = layout.file_name(pid=42, camid=2, index=3, scene=7, frame=9)
    match = layout.regex.fullmatch(name)
    assert int(match.group('pid')) == 42
    assert int(match.group('camid')) - layout.camid_base == 2
    assert layout.regex.fullmatch(layout.example_name())


def test_format_that_the_pattern_rejects_is_an_error():
    with pytest.raises(ValueError, match="renders '0287-c0.jpg'.*rejects"):
        DatasetLayout(name_pattern=r'(?P<pid>\d+)_c(?P<camid>\d+)',
                      name_format='{pid:04d}-c{camera}')


def test_constructor_arguments_override_the_class_layout(tmp_path,
                                                         triplets):
    triplets(tmp_path, 'train_141', ['000001_cam1_0_00.jpg'])
    ds = RGBNT201(str(tmp_path), split_folders=dict(train='train_141'))
    assert ds.layout.split_folders['train'] == 'train_141'
    assert ds.layout.split_folders['query'] == 'test'  # class default kept
    assert RGBNT201.LAYOUT.split_folders['train'] == 'train_171'
    assert len(ds) == 1


def test_unknown_layout_key_is_refused():
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['val'\]"):
        DatasetLayout(split_folders=dict(val='v'))


def test_describe_states_folders_rule_and_example():
    text = MSVR310.LAYOUT.describe()
    assert ('<data_root>/{bounding_box_train,query3,bounding_box_test}/'
            '<pid>/{vis,ni,th}/<name>') in text
    assert MSVR310.LAYOUT.example_name() in text
    assert 'side by side' in RGBNT100.LAYOUT.describe()
    assert MultiModalFolderDataset.LAYOUT.name_format is None
    assert 'e.g.' not in MultiModalFolderDataset.LAYOUT.describe()


def test_pid_from_identity_folders_only():
    """Names may leave the pid out only when identity folders give it."""
    layout = DatasetLayout(name_pattern=r'v(?P<camid>\d)\.jpg',
                           id_folder_format='{pid:04d}')
    assert layout.parse_ids('v3.jpg') == dict(camid=3)
    assert not layout.pid_in_names and RGBNT201.LAYOUT.pid_in_names
    assert 'the <pid> folder gives the identity' in layout.describe()
    with pytest.raises(ValueError, match="no named group 'pid'"):
        DatasetLayout(name_pattern=r'v(?P<camid>\d)\.jpg')
