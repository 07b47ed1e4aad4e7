# Copyright (c) mmieee contributors.
"""RGBNT100 multi-spectral vehicle Re-ID dataset (Li et al., "Multi-Spectral
Vehicle Re-Identification: A Challenge", AAAI 2020)."""
from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset
from .layout import DatasetLayout


@DATASETS.register_module()
class RGBNT100(BaseMultiModalReIDDataset):
    """RGBNT100: one file per sample, the three modalities side by side.

    Layout (``data_root`` is the ``RGBNT100`` folder)::

        RGBNT100/rgbir/{bounding_box_train,query,bounding_box_test}/<name>.jpg

    Each file is 768 × 128 (w × h): x 0–256 is RGB, 256–512 NI, 512–768 TI.
    ``0561_c0001_006.jpg`` → pid 561, camera 1 (``camid`` 0); 8 cameras.
    ``split='test'`` = ``query`` (``is_query``) + ``bounding_box_test``
    (``is_gallery``). Each ``data_info`` repeats the file in ``img_path`` once
    per selected modality and gives ``modality_slices`` (the ``(x0, x1)`` of
    each) and ``img_width``; ``LoadMultiModalImages`` cuts the tiles and
    refuses a file of another width. Pass ``tile_width`` for files whose
    tiles are not 256 wide (e.g. generated ones). Arguments: see
    :class:`BaseMultiModalReIDDataset`.
    """

    LAYOUT = DatasetLayout(
        dataset_name='RGBNT100',
        modality_folders=('RGB', 'NI', 'TI'),
        split_folders=dict(
            train='rgbir/bounding_box_train',
            query='rgbir/query',
            gallery='rgbir/bounding_box_test'),
        name_pattern=(r'(?P<pid>\d+)_c(?P<camid>\d+)(?:_[^/]*)?'
                      r'\.(?:jpe?g|png|bmp|tiff?)'),
        name_format='{pid:04d}_c{camera:04d}_{index:03d}',
        camid_base=1,
        junk_pids=(),
        tile_width=256,
        source=('from the authors of RGBNT100 (Li et al., "Multi-Spectral '
                'Vehicle Re-Identification: A Challenge", AAAI 2020)'))
