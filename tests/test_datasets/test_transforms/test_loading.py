# Copyright (c) mmieee contributors.
import cv2
import mmengine.fileio
import numpy as np
import pytest

import mmieee  # noqa: F401  (environment shims first)
from mmieee.datasets.transforms import LoadMultiModalImages
from mmieee.registry import TRANSFORMS


def _write(path, img):
    assert cv2.imwrite(str(path), img)  # PNG: lossless, values survive
    return str(path)


@pytest.fixture
def triplet(tmp_path):
    """Three distinct 6x4 BGR images on disk (as cv2 stores them)."""
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, (6, 4, 3), dtype=np.uint8) for _ in range(3)]
    paths = [
        _write(tmp_path / f'{m}.png', img)
        for m, img in zip(('RGB', 'NI', 'TI'), imgs)
    ]
    return paths, imgs


def test_load_three_modalities_rgb_default(triplet):
    paths, bgr = triplet
    results = LoadMultiModalImages()(dict(img_path=paths, gt_label=1))
    assert isinstance(results['img'], list) and len(results['img']) == 3
    for got, ref in zip(results['img'], bgr):
        assert got.dtype == np.uint8 and got.shape == (6, 4, 3)
        # default channel order is RGB: the reverse of cv2's BGR
        np.testing.assert_array_equal(got, ref[..., ::-1])
    assert results['img_shape'] == (6, 4)
    assert results['ori_shape'] == (6, 4)
    assert results['gt_label'] == 1


def test_load_bgr_and_float(triplet):
    paths, bgr = triplet
    t = LoadMultiModalImages(channel_order='bgr', to_float32=True)
    results = t(dict(img_path=paths))
    for got, ref in zip(results['img'], bgr):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, ref.astype(np.float32))


def test_grayscale_file_becomes_three_channels(tmp_path):
    gray = np.arange(24, dtype=np.uint8).reshape(6, 4)
    path = _write(tmp_path / 'ti.png', gray)
    results = LoadMultiModalImages()(dict(img_path=[path]))
    img = results['img'][0]
    assert img.shape == (6, 4, 3)
    for ch in range(3):
        np.testing.assert_array_equal(img[..., ch], gray)


def test_corrupt_image_names_the_file(triplet, tmp_path):
    paths, _ = triplet
    bad = tmp_path / 'corrupt.jpg'
    bad.write_bytes(b'\xff\xd8\xff\xe0 this is not a jpeg at all')
    with pytest.raises(ValueError, match='corrupt.jpg'):
        LoadMultiModalImages()(dict(img_path=[paths[0], str(bad),
                                              paths[2]]))
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='empty.png'):
        LoadMultiModalImages()(dict(img_path=[str(empty)]))


def test_missing_image_names_the_file(triplet, tmp_path):
    paths, _ = triplet
    missing = str(tmp_path / 'TI' / 'nope.jpg')
    with pytest.raises(FileNotFoundError, match='nope.jpg'):
        LoadMultiModalImages()(dict(img_path=[paths[0], paths[1], missing]))


def test_missing_img_path_key():
    with pytest.raises(KeyError, match='img_path'):
        LoadMultiModalImages()(dict(gt_label=0))


def test_rgbnt100_side_by_side_slices(tmp_path, monkeypatch):
    # One 5 x 12 file = three 5 x 4 modalities side by side (RGBNT100 layout
    # scaled down from 128 x 768).
    rng = np.random.default_rng(1)
    full = rng.integers(0, 256, (5, 12, 3), dtype=np.uint8)
    path = _write(tmp_path / '0561_c0001_006.png', full)
    slices = [(0, 4), (4, 8), (8, 12)]

    calls = []
    real_get = mmengine.fileio.get

    def counting_get(filepath, backend_args=None):
        calls.append(filepath)
        return real_get(filepath, backend_args=backend_args)

    monkeypatch.setattr(mmengine.fileio, 'get', counting_get)
    t = LoadMultiModalImages(channel_order='bgr')
    results = t(dict(img_path=[path] * 3, modality_slices=slices))
    assert calls == [path]  # the shared file is read once
    assert len(results['img']) == 3
    for img, (x0, x1) in zip(results['img'], slices):
        np.testing.assert_array_equal(img, full[:, x0:x1])
        assert img.flags['C_CONTIGUOUS']
    assert results['img_shape'] == (5, 4)

    # a subset / reordering of modalities: (TI, RGB); single-str img_path
    results = t(dict(img_path=path, modality_slices=[(8, 12), (0, 4)]))
    np.testing.assert_array_equal(results['img'][0], full[:, 8:12])
    np.testing.assert_array_equal(results['img'][1], full[:, 0:4])

    # crops are copies: writing into one leaves the others untouched
    results['img'][0][:] = 0
    np.testing.assert_array_equal(results['img'][1], full[:, 0:4])


def test_rgbnt100_bad_slice(tmp_path):
    path = _write(tmp_path / 'x.png', np.zeros((5, 12, 3), np.uint8))
    with pytest.raises(ValueError, match=r'\(8, 16\).*x.png.*width is 12'):
        LoadMultiModalImages()(
            dict(img_path=[path] * 2, modality_slices=[(0, 4), (8, 16)]))
    with pytest.raises(ValueError, match='3 img_path entries but 2'):
        LoadMultiModalImages()(
            dict(img_path=[path] * 3, modality_slices=[(0, 4), (4, 8)]))


def test_bad_channel_order():
    with pytest.raises(ValueError, match='channel_order'):
        LoadMultiModalImages(channel_order='rbg')


def test_build_from_registry():
    t = TRANSFORMS.build(dict(type='LoadMultiModalImages'))
    assert isinstance(t, LoadMultiModalImages)
    assert "channel_order='rgb'" in repr(t)
