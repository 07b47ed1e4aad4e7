# Copyright (c) mmieee contributors.
"""TimmRandomErasing: timm's box draws (10 attempts, h < H and w < W, both
placement ends included) and a fill that is N(0, 1) after the data
preprocessor's normalisation."""
import math

import numpy as np
import pytest
import torch

from mmieee.datasets.transforms import ApplyToModalities, TimmRandomErasing
from mmieee.models.data_preprocessors import MultiModalDataPreprocessor


def _erased(img, out):
    return np.any(out != img.astype(np.float32), axis=-1)


def test_box_draws_follow_timm():
    """Replay the random stream: the box is the first attempt that fits,
    with top / left uniform on [0, H - h] / [0, W - w]."""
    t = TimmRandomErasing(prob=1.0)
    for seed in range(50):
        np.random.seed(seed)
        box = t.draw_box(256, 128)
        np.random.seed(seed)
        assert np.random.rand() <= 1.0
        want = None
        for _ in range(10):
            area = np.random.uniform(0.02, 1 / 3) * 256 * 128
            aspect = math.exp(np.random.uniform(math.log(0.3),
                                                math.log(1 / 0.3)))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if w < 128 and h < 256:
                want = (np.random.randint(0, 256 - h + 1),
                        np.random.randint(0, 128 - w + 1), h, w)
                break
        assert box == want


def test_fill_is_standard_normal_after_normalisation():
    np.random.seed(0)
    t = TimmRandomErasing(prob=1.0, min_area=0.3, max_area=0.3)
    img = np.full((200, 100, 3), 17, np.uint8)
    out = t(dict(img=img))['img']
    assert out.dtype == np.float32
    mask = _erased(img, out)
    assert 0.25 < mask.mean() < 0.35
    pre = MultiModalDataPreprocessor(mean=[127.5] * 3, std=[127.5] * 3)
    x = pre(dict(inputs=torch.from_numpy(out).permute(2, 0, 1)[None, None]
                 ))['inputs'][0, 0].permute(1, 2, 0).numpy()
    fill = x[mask]
    assert abs(fill.mean()) < 0.02 and abs(fill.std() - 1) < 0.02
    assert (np.abs(fill) > 1).mean() > 0.3  # outside the pixel range
    np.testing.assert_array_equal(out[~mask], 17)


def test_probability_modes_and_no_fit():
    np.random.seed(0)
    img = np.zeros((64, 32, 3), np.uint8)
    t = TimmRandomErasing(prob=0.5)
    hits = np.mean([_erased(img, t(dict(img=img))['img']).any()
                    for _ in range(400)])
    assert 0.42 < hits < 0.58
    out = TimmRandomErasing(prob=1.0, mode='const', fill_mean=(1, 2, 3))(
        dict(img=img))['img']
    assert set(np.unique(out[_erased(img, out)]).tolist()) <= {1., 2., 3.}
    out = TimmRandomErasing(prob=1.0, mode='rand')(dict(img=img))['img']
    assert len(np.unique(out[_erased(img, out)][:, 0])) == 1
    # a box can never fit a 1 x 1 image: nothing erased, still float32
    out = TimmRandomErasing(prob=1.0)(dict(img=np.zeros((1, 1, 3))))['img']
    assert out.dtype == np.float32 and not out.any()
    gray = TimmRandomErasing(prob=1.0)(dict(img=np.zeros((40, 20))))['img']
    assert gray.shape == (40, 20)


def test_modalities_are_erased_independently():
    np.random.seed(0)
    img = np.zeros((64, 32, 3), np.uint8)
    own = ApplyToModalities(
        share_random_params=False,
        transforms=[dict(type='TimmRandomErasing', prob=1.0)])
    masks = [_erased(img, x) for x in own(dict(img=[img] * 3))['img']]
    assert not np.array_equal(masks[0], masks[1])
    shared = ApplyToModalities(
        share_random_params=True,
        transforms=[dict(type='TimmRandomErasing', prob=1.0)])
    masks = [_erased(img, x) for x in shared(dict(img=[img] * 3))['img']]
    assert np.array_equal(masks[0], masks[1])


@pytest.mark.parametrize('kwargs, match', [
    (dict(prob=2), 'prob must be in'),
    (dict(min_area=0.5, max_area=0.1), 'min_area <= max_area'),
    (dict(mode='x'), 'mode must be one of'),
    (dict(fill_std=(1, 2)), 'one number or three'),
    (dict(max_attempts=0), 'max_attempts'),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimmRandomErasing(**kwargs)
