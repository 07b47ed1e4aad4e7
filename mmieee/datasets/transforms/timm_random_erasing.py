# Copyright (c) mmieee contributors.
"""Random erasing as timm computes it on a normalised image (Zhong et al.,
"Random Erasing Data Augmentation", AAAI 2020; timm's
``timm/data/random_erasing.py``), done in pixel space.

The TransReID family (TOP-ReID, DeMo: the ``RandomErasing(probability=0.5,
mode='pixel', max_count=1, device='cpu')`` of their
``data/datasets/make_dataloader.py``) erases after ``Normalize``: the box is
filled with values drawn from N(0, 1) *in the normalised space*, which lie
outside the image's value range about a third of the time. In an mmengine
pipeline the normalisation happens later, in the data preprocessor
(``x_norm = (x - mean) / std``). This transform therefore fills the box with
``mean + std * N(0, 1)`` in pixel space and returns float32 images, so that
after the preprocessor the box holds exactly N(0, 1) values (mmpretrain's
``RandomErasing`` clips its fill to uint8, and keeps a box whose side it
had to cut to the image instead of drawing again, so it is another
augmentation).

The box, as timm draws it (``max_count=1``): with probability ``prob`` the
image is erased; then up to ``max_attempts`` times an area ``U(min_area,
max_area) * H * W`` and an aspect ratio ``exp(U(log min_aspect, log
max_aspect))`` are drawn, ``h = round(sqrt(area * aspect))``, ``w =
round(sqrt(area / aspect))``; the first draw with ``h < H`` and ``w < W`` is
placed at a uniform ``top`` in ``[0, H - h]``, ``left`` in ``[0, W - w]``
(both ends included); if no draw fits, nothing is erased.
"""
import math
from numbers import Number
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmieee.registry import TRANSFORMS

#: Fill modes, as timm's: per pixel, per channel (one colour), constant.
MODES = ('pixel', 'rand', 'const')


def _per_channel(value: Union[Number, Sequence[Number]], name: str
                 ) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float32).reshape(-1)
    if arr.size not in (1, 3):
        raise ValueError(f'TimmRandomErasing: {name} must be one number or '
                         f'three (per channel), got {value!r}')
    return arr


@TRANSFORMS.register_module()
class TimmRandomErasing(BaseTransform):
    """Erase a random box with timm's draws, filled as N(0, 1) after
    normalisation (module docstring).

    Required keys: ``img`` ((H, W, C) or (H, W) array, pixel values).
    Modified keys: ``img`` (float32, also when nothing is erased).

    Use it inside :class:`ApplyToModalities` after the geometric transforms,
    with the data preprocessor's mean and std; the official recipe draws each
    modality's box on its own (``share_random_params=False``)::

        dict(type='TimmRandomErasing', prob=0.5,
             fill_mean=127.5, fill_std=127.5)

    Args:
        prob (float): Probability of erasing. Defaults to 0.5.
        min_area (float): Smallest erased fraction of the image.
            Defaults to 0.02.
        max_area (float): Largest erased fraction. Defaults to 1/3.
        min_aspect (float): Smallest aspect ratio h / w. Defaults to 0.3.
        max_aspect (float, optional): Largest aspect ratio; None:
            ``1 / min_aspect``. Defaults to None.
        max_attempts (int): Draws of a box before giving up. Defaults to 10.
        mode (str): ``'pixel'`` (each value drawn, the official setting),
            ``'rand'`` (one colour per box) or ``'const'`` (the normalised
            0, i.e. ``fill_mean``). Defaults to ``'pixel'``.
        fill_mean (float | Sequence[float]): The normalisation mean (one
            value or one per channel), in pixel units. Defaults to 127.5.
        fill_std (float | Sequence[float]): The normalisation std.
            Defaults to 127.5.
    """

    def __init__(self,
                 prob: float = 0.5,
                 min_area: float = 0.02,
                 max_area: float = 1 / 3,
                 min_aspect: float = 0.3,
                 max_aspect: Optional[float] = None,
                 max_attempts: int = 10,
                 mode: str = 'pixel',
                 fill_mean: Union[float, Sequence[float]] = 127.5,
                 fill_std: Union[float, Sequence[float]] = 127.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(
                f'TimmRandomErasing: prob must be in [0, 1], got {prob!r}')
        if not 0 < min_area <= max_area <= 1:
            raise ValueError(
                'TimmRandomErasing: need 0 < min_area <= max_area <= 1, got '
                f'min_area={min_area!r}, max_area={max_area!r}')
        max_aspect = max_aspect or 1 / min_aspect
        if not 0 < min_aspect <= max_aspect:
            raise ValueError(
                'TimmRandomErasing: need 0 < min_aspect <= max_aspect, got '
                f'min_aspect={min_aspect!r}, max_aspect={max_aspect!r}')
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError('TimmRandomErasing: max_attempts must be a '
                             f'positive int, got {max_attempts!r}')
        if mode not in MODES:
            raise ValueError(f'TimmRandomErasing: mode must be one of '
                             f'{MODES}, got {mode!r}')
        self.prob = prob
        self.min_area = min_area
        self.max_area = max_area
        self.log_aspect = (math.log(min_aspect), math.log(max_aspect))
        self.max_attempts = max_attempts
        self.mode = mode
        self.fill_mean = _per_channel(fill_mean, 'fill_mean')
        self.fill_std = _per_channel(fill_std, 'fill_std')
        if (self.fill_std <= 0).any():
            raise ValueError('TimmRandomErasing: fill_std must be positive, '
                             f'got {fill_std!r}')

    @cache_randomness
    def draw_box(self, height: int,
                 width: int) -> Optional[Tuple[int, int, int, int]]:
        """The erased box ``(top, left, h, w)``, or None (timm's draws).

        Args:
            height (int): H of the image.
            width (int): W of the image.
        """
        if np.random.rand() > self.prob:
            return None
        area = height * width
        for _ in range(self.max_attempts):
            target = np.random.uniform(self.min_area, self.max_area) * area
            aspect = math.exp(np.random.uniform(*self.log_aspect))
            h = int(round(math.sqrt(target * aspect)))
            w = int(round(math.sqrt(target / aspect)))
            if w < width and h < height:
                top = np.random.randint(0, height - h + 1)
                left = np.random.randint(0, width - w + 1)
                return top, left, h, w
        return None

    def transform(self, results: Dict) -> Dict:
        """Erase (or not) and return a float32 image.

        Args:
            results (dict): With ``img``.

        Returns:
            dict: ``results`` with the float32 ``img``.
        """
        img = np.asarray(results['img']).astype(np.float32)
        gray = img.ndim == 2
        if gray:
            img = img[..., None]
        box = self.draw_box(img.shape[0], img.shape[1])
        if box is not None:
            top, left, h, w = box
            channels = img.shape[2]
            if {self.fill_mean.size, self.fill_std.size} - {1, channels}:
                raise ValueError(
                    f'TimmRandomErasing: fill_mean / fill_std have '
                    f'{self.fill_mean.size} / {self.fill_std.size} values, '
                    f'the image has {channels} channels')
            if self.mode == 'pixel':
                noise = np.random.standard_normal((h, w, channels))
            elif self.mode == 'rand':
                noise = np.random.standard_normal((1, 1, channels))
            else:
                noise = np.zeros((1, 1, channels))
            img[top:top + h, left:left + w] = self.fill_mean + \
                self.fill_std * noise
        results['img'] = img[..., 0] if gray else img
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, min_area='
                f'{self.min_area}, max_area={self.max_area}, log_aspect='
                f'{self.log_aspect}, max_attempts={self.max_attempts}, '
                f'mode={self.mode!r})')
