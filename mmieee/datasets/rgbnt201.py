# Copyright (c) mmieee contributors.
"""RGBNT201 multi-modal person Re-ID dataset (DESIGN §6; Zheng et al., AAAI
2021, used in the IEEE paper's Table 1-3)."""
from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset


@DATASETS.register_module()
class RGBNT201(BaseMultiModalReIDDataset):
    """RGBNT201: aligned RGB / near-infrared / thermal person triplets.

    Layout (``data_root`` is the ``RGBNT201`` folder)::

        RGBNT201/
          train_171/{RGB,NI,TI}/<name>.jpg   3,951 triplets, 171 ids
          test/{RGB,NI,TI}/<name>.jpg        836 triplets, 30 ids

    The same ``<name>`` appears in the three modality folders, e.g.
    ``000287_cam1_0_05.jpg`` → pid 287, camera 1 (``camid`` 0; cameras are
    numbered from 1 in file names, ``camid`` is 0-based).

    ``split='test'``: every test triplet is both query and gallery
    (``is_query = is_gallery = True``); the metric removes same-id
    same-camera gallery items.

    Args:
        data_root (str): The ``RGBNT201`` folder.
        split (str): ``'train'`` (``train_171``) or ``'test'``.
        pipeline (list): Data pipeline.
        modalities (Sequence[str], optional): Subset / order of
            ``('RGB', 'NI', 'TI')``.
        **kwargs: See :class:`BaseMultiModalReIDDataset`.

    ``data_info``: ``img_path`` (list of M str), ``pid``, ``camid``,
    ``gt_label`` (train: contiguous 0..N-1 over sorted pids; test: pid),
    ``is_query`` / ``is_gallery`` (test).
    """

    DATASET_NAME = 'RGBNT201'
    MODALITIES = ('RGB', 'NI', 'TI')
    SPLITS = {
        'train': [('train_171', False, False)],
        'test': [('test', True, True)],
    }
    NAME_PATTERN = (r'(?P<pid>\d+)_cam(?P<camid>\d+)(?:_[^/]*)?'
                    r'\.(?:jpe?g|png|bmp|tiff?)')
    NAME_EXAMPLE = '000287_cam1_0_05.jpg'
    CAMID_BASE = 1
    LAYOUT = ('  RGBNT201/{train_171,test}/{RGB,NI,TI}/<pid>_cam<c>_<k>_<n>'
              '.jpg  (same file name in the three modality folders, e.g. '
              '000287_cam1_0_05.jpg)')
    SOURCE = ('from the authors of RGBNT201 (Zheng et al., "Robust '
              'Multi-Modality Person Re-identification", AAAI 2021), via '
              'the link in the official IEEE repository '
              'github.com/ziwang1121/IEEE')
