# Copyright (c) mmieee contributors.
"""RGBNT201 multi-modal person Re-ID dataset (Zheng et al., "Robust
Multi-Modality Person Re-identification", AAAI 2021; the IEEE paper's
Tables 1-3)."""
from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset
from .layout import DatasetLayout


@DATASETS.register_module()
class RGBNT201(BaseMultiModalReIDDataset):
    """RGBNT201: aligned RGB / near-infrared / thermal person triplets.

    Layout (``data_root`` is the ``RGBNT201`` folder)::

        RGBNT201/
          train_171/{RGB,NI,TI}/<name>.jpg   3,951 triplets, 171 ids
          test/{RGB,NI,TI}/<name>.jpg        836 triplets, 30 ids

    The same ``<name>`` appears in the three modality folders, e.g.
    ``000287_cam1_0_05.jpg`` → pid 287, camera 1 (``camid`` 0). Every test
    triplet is both query and gallery; the metric removes same-id
    same-camera gallery items. Arguments: see
    :class:`BaseMultiModalReIDDataset`.
    """

    LAYOUT = DatasetLayout(
        dataset_name='RGBNT201',
        modality_folders=('RGB', 'NI', 'TI'),
        split_folders=dict(train='train_171', query='test', gallery='test'),
        name_pattern=(r'(?P<pid>\d+)_cam(?P<camid>\d+)(?:_[^/]*)?'
                      r'\.(?:jpe?g|png|bmp|tiff?)'),
        name_format='{pid:06d}_cam{camera}_0_{index:02d}',
        camid_base=1,
        junk_pids=(),
        source=('from the authors of RGBNT201 (Zheng et al., "Robust '
                'Multi-Modality Person Re-identification", AAAI 2021), via '
                'the link in the official IEEE repository '
                'github.com/ziwang1121/IEEE'))
