# Copyright (c) mmieee contributors.
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

import mmieee  # noqa: F401  (environment shims first)
from mmieee.datasets.transforms import ApplyToModalities
from mmieee.registry import TRANSFORMS

M = 3


def _sample(same_image=False):
    """M distinct, left-right asymmetric 8 x 6 images."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (8, 6, 3), dtype=np.uint8)
    imgs = [base.copy() if same_image else
            rng.integers(0, 256, (8, 6, 3), dtype=np.uint8)
            for _ in range(M)]
    return dict(img=imgs, img_shape=(8, 6), ori_shape=(8, 6), gt_label=0,
                pid=5, img_path=['a', 'b', 'c'])


def _flip_pattern(src, out):
    """Per modality: True if flipped horizontally, False if unchanged."""
    pattern = []
    for a, b in zip(src['img'], out['img']):
        if np.array_equal(b, a[:, ::-1]):
            pattern.append(True)
        else:
            np.testing.assert_array_equal(b, a)
            pattern.append(False)
    return tuple(pattern)


def _draw_flips(share, draws=20):
    t = ApplyToModalities(
        transforms=[dict(type='RandomFlip', prob=0.5)],
        share_random_params=share)
    patterns = []
    for seed in range(draws):
        np.random.seed(seed)
        src = _sample()
        out = t(_sample())
        patterns.append(_flip_pattern(src, out))
    return patterns


def test_shared_flip_is_aligned():
    patterns = _draw_flips(share=True)
    # every draw flips all modalities or none ...
    assert all(len(set(p)) == 1 for p in patterns)
    # ... and both outcomes occur
    assert {p[0] for p in patterns} == {True, False}


def test_independent_flip_mixes_modalities():
    patterns = _draw_flips(share=False)
    mixed = [p for p in patterns if len(set(p)) > 1]
    assert mixed, patterns
    # each modality is flipped in some draws and not in others
    for m in range(M):
        assert {p[m] for p in patterns} == {True, False}


def test_shared_random_crop_and_erasing_same_params():
    # Identical inputs stay identical only if the crop box and the erasing
    # patch are shared.
    pipeline = [
        dict(type='RandomCrop', crop_size=(6, 4), padding=2),
        dict(type='RandomErasing', erase_prob=1.0, mode='const',
             fill_color=(1, 2, 3), min_area_ratio=0.1, max_area_ratio=0.3)
    ]
    shared = ApplyToModalities(transforms=pipeline, share_random_params=True)
    indep = ApplyToModalities(transforms=pipeline, share_random_params=False)
    any_diff = False
    for seed in range(10):
        np.random.seed(seed)
        out = shared(_sample(same_image=True))
        assert all(img.shape == (6, 4, 3) for img in out['img'])
        for img in out['img'][1:]:
            np.testing.assert_array_equal(img, out['img'][0])
        np.random.seed(seed)
        out = indep(_sample(same_image=True))
        any_diff |= any(not np.array_equal(img, out['img'][0])
                        for img in out['img'][1:])
    assert any_diff


def test_resize_scale_is_w_h_and_img_shape_updated():
    t = ApplyToModalities(transforms=[dict(type='Resize', scale=(4, 10))])
    out = t(_sample())
    assert isinstance(out['img'], list) and len(out['img']) == M
    assert all(img.shape == (10, 4, 3) for img in out['img'])
    assert out['img_shape'] == (10, 4)
    assert out['ori_shape'] == (8, 6)
    # non-image keys are untouched (not turned into per-modality lists)
    assert out['pid'] == 5 and out['gt_label'] == 0
    assert out['img_path'] == ['a', 'b', 'c']


def test_plain_and_prefixed_names_build_with_mmieee_scope():
    """What configs write, built as the Runner would (default_scope)."""
    cfg = [
        dict(
            type='ApplyToModalities',
            share_random_params=False,
            transforms=[
                dict(type='Resize', scale=(6, 12)),
                dict(type='RandomFlip', prob=0.5),
                dict(type='Pad', size=(8, 14)),
                dict(type='RandomCrop', crop_size=(12, 6)),
                dict(type='RandomResizedCrop', scale=(12, 6)),
                dict(type='CenterCrop', crop_size=(6, 12)),
                dict(type='RandomErasing', erase_prob=0.5),
                dict(type='ColorJitter', brightness=0.2),
                dict(type='mmcv.RandomChoiceResize', scales=[(6, 12)]),
                dict(type='mmpretrain.ResizeEdge', scale=12, edge='long'),
            ])
    ]
    with DefaultScope.overwrite_default_scope('mmieee'):
        pipeline = Compose(cfg)
    np.random.seed(0)
    out = pipeline(_sample())
    assert all(img.shape == (12, 6, 3) for img in out['img'])
    assert out['img_shape'] == (12, 6)


def test_plain_names_registered_in_mmieee():
    for name in ('Resize', 'RandomFlip', 'Pad', 'RandomCrop',
                 'RandomResizedCrop', 'CenterCrop', 'RandomErasing',
                 'RandomResize', 'ColorJitter'):
        assert TRANSFORMS.get(name) is not None, name
    # normalisation belongs to the data preprocessor
    assert 'Normalize' not in TRANSFORMS.module_dict


def test_bad_input():
    t = ApplyToModalities(transforms=[dict(type='RandomFlip', prob=0.5)])
    with pytest.raises(TypeError, match='LoadMultiModalImages'):
        t(dict(img=np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(TypeError, match='list'):
        ApplyToModalities(transforms=dict(type='RandomFlip'))
