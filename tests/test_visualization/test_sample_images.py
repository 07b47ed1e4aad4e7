# Copyright (c) mmieee contributors.
"""SampleImageLoader: the images a picture shows, RGBNT100 tiles cut."""
import os.path as osp

import mmcv
import numpy as np

import mmieee  # noqa: F401
from mmieee.datasets import RGBNT100, RGBNT201
from mmieee.datasets.transforms import LoadMultiModalImages
from mmieee.testing import generate_synthetic_dataset
from mmieee.visualization import SampleImageLoader


def test_rgbnt100_files_are_cut_into_modality_tiles(tmp_path):
    generate_synthetic_dataset(
        str(tmp_path), num_train_ids=1, num_test_ids=2, num_cameras=2,
        images_per_id_per_camera=1, height=32, width=16, layout='rgbnt100')
    dataset = RGBNT100(
        str(tmp_path / 'RGBNT100'), split='test', tile_width=16,
        modalities=('TI', 'RGB'),
        pipeline=[LoadMultiModalImages()])
    images = SampleImageLoader(dataset)(0)
    path = dataset.get_data_info(0)['img_path'][0]
    full = mmcv.imread(path, channel_order='rgb')
    assert full.shape == (32, 48, 3)
    assert [img.shape for img in images] == [(32, 16, 3)] * 2
    np.testing.assert_array_equal(images[0], full[:, 32:48])  # TI tile
    np.testing.assert_array_equal(images[1], full[:, 0:16])  # RGB tile


def test_images_are_rgb_whatever_the_pipeline_order(tmp_path):
    generate_synthetic_dataset(
        str(tmp_path), num_train_ids=1, num_test_ids=1, num_cameras=2,
        images_per_id_per_camera=1, height=32, width=16)
    dataset = RGBNT201(
        str(tmp_path / 'RGBNT201'), split='test',
        pipeline=[LoadMultiModalImages(channel_order='bgr')])
    images = SampleImageLoader(dataset)(1)
    for img, path in zip(images, dataset.get_data_info(1)['img_path']):
        assert osp.isfile(path)
        np.testing.assert_array_equal(
            img, mmcv.imread(path, channel_order='rgb'))
