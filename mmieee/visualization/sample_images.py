# Copyright (c) mmieee contributors.
"""The M images of a dataset sample, loaded for display.

Loading goes through the dataset's own :class:`LoadMultiModalImages` (its
file backend and decoder), always in RGB order, so that RGBNT100's
side-by-side files are cut into their modality tiles (``modality_slices``)
exactly as the model's pipeline cuts them.
"""
from typing import List

import numpy as np
from mmengine.dataset import BaseDataset

from mmieee.datasets.transforms import LoadMultiModalImages


def pipeline_channel_order(dataset: BaseDataset) -> str:
    """``'rgb'`` or ``'bgr'``: the channel order of the dataset's pipeline
    (its :class:`LoadMultiModalImages`; ``'rgb'`` when it has none)."""
    transforms = getattr(getattr(dataset, 'pipeline', None), 'transforms',
                         ())
    own = next((t for t in transforms
                if isinstance(t, LoadMultiModalImages)), None)
    return 'rgb' if own is None else own.channel_order


class SampleImageLoader:
    """Load the original (un-augmented) modality images of samples.

    Args:
        dataset (BaseDataset): A multi-modal dataset (or a wrapper with
            ``get_data_info``).
    """

    def __init__(self, dataset: BaseDataset) -> None:
        self.dataset = dataset
        transforms = getattr(getattr(dataset, 'pipeline', None), 'transforms',
                             ())
        own = next((t for t in transforms
                    if isinstance(t, LoadMultiModalImages)), None)
        kwargs = {}
        if own is not None:
            kwargs = dict(
                color_type=own.color_type,
                imdecode_backend=own.imdecode_backend,
                backend_args=own.backend_args)
        self.loader = LoadMultiModalImages(channel_order='rgb', **kwargs)

    def __call__(self, index: int) -> List[np.ndarray]:
        """The M images of sample ``index``.

        Args:
            index (int): Index in the dataset.

        Returns:
            list[np.ndarray]: M (H, W, 3) uint8 RGB images in the dataset's
            modality order.
        """
        info = self.dataset.get_data_info(int(index))
        return self.loader(dict(info))['img']
