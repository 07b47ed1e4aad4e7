# Copyright (c) mmieee contributors.
"""check_data_roots: the first error users hit, with directions."""
import pytest
from mmengine.config import Config

from mmieee.utils import (DatasetNotFoundError, check_data_roots,
                          iter_dataset_cfgs)


def _cfg(**loaders):
    return Config(loaders)


def test_missing_root_names_path_layout_source_and_demo(tmp_path):
    root = tmp_path / 'RGBNT201'
    cfg = _cfg(
        train_dataloader=dict(
            dataset=dict(type='RGBNT201', data_root=str(root))),
        val_dataloader=dict(
            dataset=dict(type='RGBNT201', data_root=str(root))))
    with pytest.raises(DatasetNotFoundError) as info:
        check_data_roots(cfg)
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert 'train_dataloader.dataset.data_root' in msg
    assert str(root) in msg
    assert 'train_171,test' in msg  # the dataset class's LAYOUT
    assert 'RGBNT201 is obtained from the authors' in msg  # its SOURCE
    assert ('--cfg-options train_dataloader.dataset.data_root=PATH '
            'val_dataloader.dataset.data_root=PATH') in msg
    assert 'generate_synthetic.py data/synthetic' in msg
    assert 'configs/ieee/ieee_r18_1xb16-8e_synthetic-demo.py' in msg


def test_existing_roots_and_unset_roots_pass(tmp_path):
    cfg = _cfg(
        train_dataloader=dict(
            dataset=dict(type='RGBNT201', data_root=str(tmp_path))),
        val_dataloader=dict(dataset=dict(type='RGBNT201')),
        test_dataloader=None)
    check_data_roots(cfg)


def test_only_the_requested_loaders_are_checked(tmp_path):
    cfg = _cfg(
        train_dataloader=dict(
            dataset=dict(type='RGBNT201', data_root=str(tmp_path / 'no'))),
        test_dataloader=dict(
            dataset=dict(type='RGBNT201', data_root=str(tmp_path))))
    check_data_roots(cfg, keys=('test_dataloader', ))
    with pytest.raises(DatasetNotFoundError):
        check_data_roots(cfg)


def test_wrapped_datasets_are_followed(tmp_path):
    cfg = _cfg(
        train_dataloader=dict(
            dataset=dict(
                type='ConcatDataset',
                datasets=[
                    dict(type='RGBNT201', data_root=str(tmp_path)),
                    dict(
                        type='RepeatDataset',
                        times=2,
                        dataset=dict(
                            type='MSVR310',
                            data_root=str(tmp_path / 'MSVR310')))
                ])))
    names = [n for n, _ in iter_dataset_cfgs(cfg)]
    assert names == [
        'train_dataloader.dataset', 'train_dataloader.dataset.datasets.0',
        'train_dataloader.dataset.datasets.1',
        'train_dataloader.dataset.datasets.1.dataset'
    ]
    with pytest.raises(DatasetNotFoundError, match='MSVR310 dataset not '
                       'found: train_dataloader.dataset.datasets.1.dataset'):
        check_data_roots(cfg)


def test_unknown_dataset_type_still_reports_the_path(tmp_path):
    cfg = _cfg(
        train_dataloader=dict(
            dataset=dict(type='NoSuchSet', data_root=str(tmp_path / 'x'))))
    with pytest.raises(DatasetNotFoundError, match='NoSuchSet dataset not '
                       'found'):
        check_data_roots(cfg)


def test_the_advice_comes_right_after_the_problem(tmp_path):
    cfg = _cfg(train_dataloader=dict(
        dataset=dict(type='RGBNT201', data_root=str(tmp_path / 'no'))))
    with pytest.raises(DatasetNotFoundError) as info:
        check_data_roots(cfg)
    lines = str(info.value).splitlines()
    assert lines[0].startswith('RGBNT201 dataset not found')
    assert lines[1].startswith('Put the dataset there')
    assert lines[2] == ('  --cfg-options '
                        'train_dataloader.dataset.data_root=PATH')
