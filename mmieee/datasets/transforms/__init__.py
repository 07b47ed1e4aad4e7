# Copyright (c) mmieee contributors.
"""Data transforms: load the M images of a sample, augment them, pack them.

Like mmpretrain's ``datasets/transforms/__init__.py``, the mmcv and
mmpretrain single-image transforms that configs commonly name are also
registered in mmieee's TRANSFORMS, so that with ``default_scope='mmieee'``
configs write ``dict(type='Resize', ...)`` / ``dict(type='RandomCrop', ...)``
without a prefix. Any other one is reached with its scope prefix
(``'mmcv.RandomChoiceResize'``, ``'mmpretrain.RandAugment'``).

Note the argument conventions: mmcv ``Resize(scale=(w, h))``,
``Pad(size=(w, h))``, ``CenterCrop(crop_size=(w, h))``; mmpretrain
``RandomCrop(crop_size=(h, w))``, ``RandomResizedCrop(scale=(h, w))``.
"""
from mmcv.transforms import (CenterCrop, Pad, RandomFlip, RandomGrayscale,
                             RandomResize, Resize)
from mmpretrain.datasets.transforms import (ColorJitter, RandomCrop,
                                            RandomErasing, RandomResizedCrop,
                                            ResizeEdge)

from mmieee.registry import TRANSFORMS

from .apply_to_modalities import ApplyToModalities
from .formatting import PackMultiModalReIDInputs
from .loading import LoadMultiModalImages
from .timm_random_erasing import TimmRandomErasing

# Plain-name aliases of the external transforms. ``Normalize`` is left out on
# purpose: MultiModalDataPreprocessor normalises on the device.
for _t in (CenterCrop, Pad, RandomFlip, RandomGrayscale, RandomResize, Resize,
           ColorJitter, RandomCrop, RandomErasing, RandomResizedCrop,
           ResizeEdge):
    TRANSFORMS.register_module(module=_t)

__all__ = [
    'LoadMultiModalImages', 'ApplyToModalities', 'PackMultiModalReIDInputs',
    'TimmRandomErasing'
]
