# Copyright (c) mmieee contributors.
"""Market1501-MM: the multi-modal Market1501 built by the IEEE paper
(§ Dataset and Evaluation Protocols)."""
from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset
from .layout import DatasetLayout


@DATASETS.register_module()
class Market1501MM(BaseMultiModalReIDDataset):
    """Market1501-MM: Market1501 with a generated NI (grey) and TI (CycleGAN)
    image per (darkened) RGB image.

    Layout (``data_root`` is the ``Market1501-MM`` folder)::

        Market1501-MM/{train,query,gallery}/{RGB,NI,TI}/<market name>.jpg

    Market file names: ``0002_c1s1_000451_03.jpg`` → pid 2, camera 1
    (``camid`` 0). pid -1 (junk) samples are dropped; pid 0 (distractors)
    are kept (in the gallery). ``split='test'`` combines ``query``
    (``is_query``) and ``gallery`` (``is_gallery``), query samples first.
    Arguments: see :class:`BaseMultiModalReIDDataset`.
    """

    LAYOUT = DatasetLayout(
        dataset_name='Market1501-MM',
        modality_folders=('RGB', 'NI', 'TI'),
        split_folders=dict(train='train', query='query', gallery='gallery'),
        name_pattern=(r'(?P<pid>-?\d+)_c(?P<camid>\d+)(?:s\d+)?(?:_[^/]*)?'
                      r'\.(?:jpe?g|png|bmp|tiff?)'),
        name_format='{pid:04d}_c{camera}s1_{frame:06d}_{index:02d}',
        camid_base=1,
        junk_pids=(-1, ),
        source=('by building it from Market1501 as the IEEE paper describes '
                '(NI = grey RGB, TI = CycleGAN RGB→TI, RGB darkened by 60%) '
                'or from the IEEE authors (github.com/ziwang1121/IEEE)'))
