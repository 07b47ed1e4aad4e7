# Copyright (c) mmieee contributors.
"""Augmentation of all M modality images of a sample.

The official IEEE recipe flips each modality independently; aligned
augmentation (one random draw shared by the M images) is the alternative.
Both are mmcv's :class:`~mmcv.transforms.TransformBroadcaster` over the list
``results['img']``: with ``share_random_params=True`` every method of the
wrapped transforms decorated with ``cache_randomness`` (the flip decision,
the crop box, the erasing patch, ...) is drawn once and reused for every
modality; with ``False`` each modality draws its own.
"""
from typing import Callable, Dict, List, Union

from mmcv.transforms import TransformBroadcaster

from mmieee.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ApplyToModalities(TransformBroadcaster):
    """Apply ordinary single-image transforms to every modality image.

    Config example (the official recipe: resize all, flip each modality on
    its own)::

        dict(type='ApplyToModalities', share_random_params=False,
             transforms=[dict(type='Resize', scale=(128, 256)),  # (w, h)
                         dict(type='RandomFlip', prob=0.5)])

    Required keys: ``img`` (list of M (H, W, C) arrays, from
    :class:`LoadMultiModalImages`). Modified keys: ``img`` (list of M arrays),
    ``img_shape`` ((H, W) of the first modality after the transforms). Keys
    that the wrapped transforms add per image (``flip``, ``scale_factor``,
    ...) are not kept: they may differ between modalities.

    Args:
        transforms (list[dict | callable]): Single-image transforms (configs
            are built from mmieee's TRANSFORMS registry, which also holds the
            common mmcv / mmpretrain transforms under their plain names; any
            other one is reached as ``'mmcv.X'`` / ``'mmpretrain.X'``).
        share_random_params (bool): True: one random draw per sample, shared
            by all modalities (aligned augmentation). False: each modality
            draws independently. Only randomness that the transform marks
            with ``cache_randomness`` is shared (true for mmcv's RandomFlip,
            RandomResize, RandomGrayscale and mmpretrain's RandomCrop,
            RandomResizedCrop, RandomErasing, ColorJitter; RandomErasing's
            ``mode='rand'`` noise fill is still drawn per modality, only the
            patch is shared). Defaults to True.
    """

    def __init__(self,
                 transforms: List[Union[Dict, Callable[[Dict], Dict]]],
                 share_random_params: bool = True) -> None:
        if not isinstance(transforms, (list, tuple)):
            raise TypeError('ApplyToModalities: transforms must be a list of '
                            f'transform configs, got {type(transforms)}')
        # Build here from mmieee's registry so that plain names such as
        # 'RandomCrop' (mmpretrain) resolve whatever the default scope is.
        built = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ]
        super().__init__(
            transforms=built,
            mapping={'img': 'img'},
            auto_remap=True,
            share_random_params=share_random_params)

    def transform(self, results: Dict) -> Dict:
        """Apply the wrapped transforms to each image of ``results['img']``.

        Args:
            results (dict): Must hold ``img``, a list of M arrays.

        Returns:
            dict: ``results`` with ``img`` (list of M arrays) and
            ``img_shape`` updated.
        """
        imgs = results.get('img')
        if not isinstance(imgs, (list, tuple)) or len(imgs) == 0:
            raise TypeError(
                'ApplyToModalities expects results["img"] to be a non-empty '
                'list of per-modality images (use LoadMultiModalImages '
                f'first), got {type(imgs).__name__}')
        results = super().transform(results)
        results['img'] = list(results['img'])
        results['img_shape'] = results['img'][0].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(transforms={self.transforms}, '
                f'share_random_params={self.share_random_params})')
