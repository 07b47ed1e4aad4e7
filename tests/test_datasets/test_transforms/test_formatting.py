# Copyright (c) mmieee contributors.
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

import mmieee  # noqa: F401  (environment shims first)
from mmieee.datasets.transforms import PackMultiModalReIDInputs


def _results(m=3, h=4, w=2, **extra):
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(m)]
    res = dict(
        img=imgs,
        img_shape=(h, w),
        ori_shape=(8, 4),
        img_path=[f'/d/{k}/0001_c1.jpg' for k in ('RGB', 'NI', 'TI')[:m]],
        gt_label=3,
        pid=17,
        camid=1,
        is_query=True,
        is_gallery=False,
        modalities=('RGB', 'NI', 'TI')[:m],
        sample_idx=9)
    res.update(extra)
    return res


def test_pack_inputs_dtype_shape_values():
    res = _results()
    out = PackMultiModalReIDInputs()(res)
    inputs = out['inputs']
    assert inputs.dtype == torch.uint8
    assert inputs.shape == (3, 3, 4, 2)  # (M, C, H, W)
    for m, img in enumerate(res['img']):
        # inputs[m, c, y, x] == img[y, x, c]
        np.testing.assert_array_equal(inputs[m].numpy(),
                                      img.transpose(2, 0, 1))


def test_pack_metainfo_and_label():
    out = PackMultiModalReIDInputs()(_results(sceneid=12))
    ds = out['data_samples']
    assert ds.gt_label.tolist() == [3]
    assert ds.pid == 17 and ds.camid == 1 and ds.sceneid == 12
    assert ds.is_query is True and ds.is_gallery is False
    assert ds.modalities == ('RGB', 'NI', 'TI')
    assert ds.img_path[2] == '/d/TI/0001_c1.jpg'
    assert ds.img_shape == (4, 2) and ds.ori_shape == (8, 4)
    assert ds.sample_idx == 9


def test_absent_keys_are_skipped():
    res = _results()
    for k in ('modalities', 'is_query', 'is_gallery', 'gt_label'):
        res.pop(k)
    ds = PackMultiModalReIDInputs()(res)['data_samples']
    for k in ('modalities', 'is_query', 'is_gallery', 'sceneid'):
        assert k not in ds
    assert 'gt_label' not in ds
    assert ds.pid == 17


def test_two_modalities_and_grayscale():
    res = _results(m=2)
    res['img'] = [img[..., 0] for img in res['img']]  # (H, W)
    inputs = PackMultiModalReIDInputs()(res)['inputs']
    assert inputs.shape == (2, 1, 4, 2)


def test_collate_gives_b_m_c_h_w():
    pack = PackMultiModalReIDInputs()
    batch = default_collate([pack(_results()) for _ in range(5)])
    assert batch['inputs'].shape == (5, 3, 3, 4, 2)
    assert batch['inputs'].dtype == torch.uint8
    assert len(batch['data_samples']) == 5


def test_shape_mismatch_is_an_error():
    res = _results()
    res['img'][1] = np.zeros((5, 2, 3), np.uint8)
    with pytest.raises(ValueError, match=r'differ in shape.*0001_c1'):
        PackMultiModalReIDInputs()(res)


def test_missing_or_wrong_img():
    with pytest.raises(KeyError, match='img'):
        PackMultiModalReIDInputs()(dict(pid=1))
    with pytest.raises(TypeError, match='list'):
        PackMultiModalReIDInputs()(dict(img=np.zeros((4, 2, 3), np.uint8)))


def test_custom_meta_keys():
    pack = PackMultiModalReIDInputs(meta_keys=('pid', ))
    ds = pack(_results())['data_samples']
    assert ds.pid == 17 and 'camid' not in ds
