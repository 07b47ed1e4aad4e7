# Copyright (c) mmieee contributors.
"""WMVEID863 (also published as MSVWild863) multi-spectral vehicle Re-ID
dataset in the wild (Zheng et al., "Flare-Aware Cross-modal Enhancement
Network for Multi-spectral Vehicle Re-identification", Information Fusion
2024; dataset and loader released with the paper's code,
github.com/Mzq12138/Official-Implementation-for-Flare-Aware-Cross-modal-Enhancement-for-Multi-spectral-Vehicle-ReID,
``datasets/WMVEID863.py``)."""
from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset
from .layout import DatasetLayout


@DATASETS.register_module()
class WMVEID863(BaseMultiModalReIDDataset):
    """WMVEID863: vehicle triplets grouped by vehicle id, as released.

    Layout (``data_root`` is the ``WMVEID863`` folder)::

        WMVEID863/{train,query,test}/<vid>/{vis,ni,th}/<name>.jpg

    The ``<vid>`` folder gives the vehicle id; the same ``<name>`` appears in
    ``vis`` (RGB), ``ni`` (NI) and ``th`` (TI). The camera is the digit of
    the first ``v`` + digit in the name, and the name carries a day/night
    flag ``n`` + digit, e.g. ``0012_v3_n1_005.jpg`` → camera 3 (``camid``
    3: the dataset's loader uses the digit as it is); the flag is not read
    (the dataset's loader parses it and never uses it). ``split='test'`` =
    ``query`` (``is_query``) + ``test`` (``is_gallery``); the evaluation
    removes gallery items of the query's id seen by the query's camera
    (``exclude='camera'``, the loader's ``R1_mAP_eval``).

    DeMo's ``data/datasets/MSVWild863.py`` reads another copy of the data:
    flat folders ``{train,query,test}/{vis,ni,th}/`` with RGBNT201-style
    names ``PPPPPP_camN_*.jpg``; read it with the layout arguments shown in
    docs/datasets.md. Arguments: see :class:`BaseMultiModalReIDDataset`.
    """

    LAYOUT = DatasetLayout(
        dataset_name='WMVEID863',
        modality_folders=dict(RGB='vis', NI='ni', TI='th'),
        split_folders=dict(train='train', query='query', gallery='test'),
        # camera: the first 'v' + digit (the loader's re.search('v+\d'));
        # the name must also hold the night flag 'n' + digit, as the
        # loader requires. Both letters are matched in lower case only.
        name_pattern=(r'(?=[^/]*(?-i:n)\d)[^/]*?(?-i:v)(?P<camid>\d)[^/]*'
                      r'\.(?:jpe?g|png|bmp|tiff?)'),
        name_format='{pid:04d}_v{camera}_n0_{index:03d}',
        camid_base=0,
        junk_pids=(),
        id_folder_format='{pid:04d}',
        source=('from its authors (Zheng et al., "Flare-Aware Cross-modal '
                'Enhancement Network for Multi-spectral Vehicle '
                'Re-identification", Information Fusion 2024), via the link '
                'in their repository github.com/Mzq12138/Official-'
                'Implementation-for-Flare-Aware-Cross-modal-Enhancement-for-'
                'Multi-spectral-Vehicle-ReID'))
