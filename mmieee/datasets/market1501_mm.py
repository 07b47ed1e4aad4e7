# Copyright (c) mmieee contributors.
"""Market1501-MM: the multi-modal Market1501 built by the IEEE paper
(§ Dataset and Evaluation Protocols; DESIGN §6)."""
from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset


@DATASETS.register_module()
class Market1501MM(BaseMultiModalReIDDataset):
    """Market1501-MM: Market1501 with a generated NI (grey) and TI (CycleGAN)
    image per RGB image.

    Layout (``data_root`` is the ``Market1501-MM`` folder)::

        Market1501-MM/
          train/{RGB,NI,TI}/<market name>.jpg
          query/{RGB,NI,TI}/<market name>.jpg
          gallery/{RGB,NI,TI}/<market name>.jpg

    Market file names: ``0002_c1s1_000451_03.jpg`` → pid 2, camera 1
    (``camid`` 0). pid -1 (junk) samples are dropped; pid 0 (distractors) are
    kept (in the gallery). ``split='test'`` combines ``query`` (``is_query``)
    and ``gallery`` (``is_gallery``), query samples first.

    Args:
        data_root (str): The ``Market1501-MM`` folder.
        split (str): ``'train'`` or ``'test'``.
        pipeline (list): Data pipeline.
        modalities (Sequence[str], optional): Subset / order of
            ``('RGB', 'NI', 'TI')``.
        **kwargs: See :class:`BaseMultiModalReIDDataset`.
    """

    DATASET_NAME = 'Market1501-MM'
    MODALITIES = ('RGB', 'NI', 'TI')
    SPLITS = {
        'train': [('train', False, False)],
        'test': [('query', True, False), ('gallery', False, True)],
    }
    NAME_PATTERN = (r'(?P<pid>-?\d+)_c(?P<camid>\d+)(?:s\d+)?(?:_[^/]*)?'
                    r'\.(?:jpe?g|png|bmp|tiff?)')
    NAME_EXAMPLE = '0002_c1s1_000451_03.jpg'
    CAMID_BASE = 1
    JUNK_PIDS = (-1, )
    LAYOUT = ('  Market1501-MM/{train,query,gallery}/{RGB,NI,TI}/'
              '<pid>_c<cam>s<seq>_<frame>_<box>.jpg  (same file name in the '
              'three modality folders, e.g. 0002_c1s1_000451_03.jpg)')
    SOURCE = ('by building it from Market1501 as the IEEE paper describes '
              '(NI = grey RGB, TI = CycleGAN RGB→TI, RGB darkened by 60%) or '
              'from the IEEE authors (github.com/ziwang1121/IEEE)')
