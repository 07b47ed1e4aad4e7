# Copyright (c) mmieee contributors.
"""Packing of a multi-modal sample into model inputs (the packed-sample
contract of docs/architecture.md).

``inputs`` is one uint8 tensor (M, C, H, W) so that ``default_collate``
stacks a batch into (B, M, C, H, W); the labels and the evaluation metadata
go into an :class:`mmpretrain.structures.DataSample`.
"""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.structures import DataSample

from mmieee.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackMultiModalReIDInputs(BaseTransform):
    """Pack the M modality images and the Re-ID metadata of one sample.

    Required keys: ``img`` (list of M (H, W, C) or (H, W) arrays, all of the
    same shape). Optional keys: ``gt_label`` and every key in ``meta_keys``
    (those absent from ``results`` are skipped).

    Returns ``dict(inputs=tensor (M, C, H, W), data_samples=DataSample)``.
    The tensor keeps the images' dtype (uint8 for the default pipeline; the
    data preprocessor converts to float on the model's device). The data
    sample has ``gt_label`` (when given) and the present ``meta_keys`` as
    metainfo.

    Args:
        meta_keys (Sequence[str]): Keys copied into the data sample's
            metainfo. Defaults to ``('pid', 'camid', 'sceneid', 'is_query',
            'is_gallery', 'img_path', 'modalities', 'ori_shape',
            'img_shape', 'sample_idx')``.
    """

    DEFAULT_META_KEYS = ('pid', 'camid', 'sceneid', 'is_query', 'is_gallery',
                         'img_path', 'modalities', 'ori_shape', 'img_shape',
                         'sample_idx')

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    @staticmethod
    def _to_tensor(imgs: Sequence[np.ndarray],
                   img_path: object = None) -> torch.Tensor:
        """Stack M images (H, W[, C]) into a (M, C, H, W) tensor."""
        arrays = []
        for img in imgs:
            img = np.asarray(img)
            if img.ndim == 2:
                img = img[..., None]
            if img.ndim != 3:
                raise ValueError(
                    'PackMultiModalReIDInputs: each modality image must be '
                    f'(H, W) or (H, W, C), got shape {img.shape} '
                    f'(img_path={img_path})')
            arrays.append(img)
        shapes = [a.shape for a in arrays]
        if len(set(shapes)) != 1:
            raise ValueError(
                'PackMultiModalReIDInputs: the modality images differ in '
                f'shape after the pipeline: {shapes} (img_path={img_path}). '
                'Resize every modality to the same size, e.g. '
                "dict(type='ApplyToModalities', transforms=[dict("
                "type='Resize', scale=(w, h))]).")
        stacked = np.stack(arrays).transpose(0, 3, 1, 2)  # (M, C, H, W)
        return torch.from_numpy(np.ascontiguousarray(stacked))

    def transform(self, results: Dict) -> Dict:
        """Pack ``results``.

        Args:
            results (dict): Output of the previous transforms.

        Returns:
            dict: ``inputs`` (tensor (M, C, H, W)) and ``data_samples``
            (:class:`DataSample`).
        """
        if 'img' not in results:
            raise KeyError('PackMultiModalReIDInputs needs the key "img" '
                           '(load the images with LoadMultiModalImages); got '
                           f'keys {sorted(results)}')
        imgs = results['img']
        if not isinstance(imgs, (list, tuple)):
            raise TypeError(
                'PackMultiModalReIDInputs expects results["img"] to be a list '
                f'of per-modality images, got {type(imgs).__name__}')
        inputs = self._to_tensor(imgs, results.get('img_path'))

        data_sample = DataSample()
        if 'gt_label' in results:
            data_sample.set_gt_label(results['gt_label'])
        metainfo = {k: results[k] for k in self.meta_keys if k in results}
        data_sample.set_metainfo(metainfo)
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
