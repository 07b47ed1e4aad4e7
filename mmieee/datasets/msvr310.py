# Copyright (c) mmieee contributors.
"""MSVR310 multi-spectral vehicle Re-ID dataset with scene ids (Zheng et al.,
"Multi-spectral vehicle re-identification with cross-directional consistency
network and a high-quality benchmark")."""
from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset
from .layout import DatasetLayout


@DATASETS.register_module()
class MSVR310(BaseMultiModalReIDDataset):
    """MSVR310: vehicle triplets grouped by vehicle id, with scene ids.

    Layout (``data_root`` is the ``MSVR310`` folder)::

        MSVR310/{bounding_box_train,query3,bounding_box_test}/
          <vid>/{vis,ni,th}/<name>.jpg

    The same ``<name>`` appears in ``vis`` (RGB), ``ni`` (NI) and ``th``
    (TI). ``0019_s012_v0_000.jpg`` → vid (pid) 19, scene 12, view 0;
    ``camid`` is the view (already 0-based), ``sceneid`` the scene; the
    ``<vid>`` folder must equal the file's vid. The evaluation excludes
    gallery items with the same id AND the same scene (``exclude='scene'``).
    ``split='test'`` = ``query3`` (``is_query``) + ``bounding_box_test``
    (``is_gallery``). Arguments: see :class:`BaseMultiModalReIDDataset`.
    """

    LAYOUT = DatasetLayout(
        dataset_name='MSVR310',
        modality_folders=dict(RGB='vis', NI='ni', TI='th'),
        split_folders=dict(
            train='bounding_box_train',
            query='query3',
            gallery='bounding_box_test'),
        name_pattern=(r'(?P<pid>\d+)_s(?P<sceneid>\d+)_v(?P<camid>\d+)'
                      r'(?:_[^/]*)?\.(?:jpe?g|png|bmp|tiff?)'),
        name_format='{pid:04d}_s{scene:03d}_v{camera}_{index:03d}',
        camid_base=0,
        junk_pids=(),
        id_folder_format='{pid:04d}',
        source=('from the authors of MSVR310 (Zheng et al., "Multi-spectral '
                'vehicle re-identification with cross-directional '
                'consistency network and a high-quality benchmark")'))
