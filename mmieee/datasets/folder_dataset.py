# Copyright (c) mmieee contributors.
"""A multi-modal Re-ID dataset in a user's own folder layout."""
from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset
from .layout import DatasetLayout


@DATASETS.register_module()
class MultiModalFolderDataset(BaseMultiModalReIDDataset):
    """One folder per modality, identity and camera read from file names.

    Every field of :class:`DatasetLayout` is a constructor argument; the
    defaults are::

        <data_root>/{train,query,gallery}/{RGB,NI,TI}/<name>

    with the same ``<name>`` in every modality folder and names like
    ``0002_c1_x.jpg`` (``r'(?P<pid>-?\\d+)_c(?P<camid>\\d+).*'``, pid -1
    dropped). When ``split_folders`` gives query and gallery the same
    folder, every test sample is both (RGBNT201-style protocol).

    Example (an RGB + thermal dataset)::

        dict(type='MultiModalFolderDataset', data_root='data/mine',
             modality_folders=dict(RGB='visible', TI='thermal'),
             name_pattern=r'(?P<pid>\\d+)_cam(?P<camid>\\d+)_.*\\.png',
             camid_base=1,
             split_folders=dict(train='train', query='test',
                                gallery='test'))

    docs/datasets.md ("Adding your own dataset") walks through a complete
    example.
    """

    LAYOUT = DatasetLayout()
