# Copyright (c) mmieee contributors.
"""MSVR310 multi-spectral vehicle Re-ID dataset with scene ids (DESIGN §6;
Zheng et al., "Multi-spectral vehicle re-identification with cross-directional
consistency network and a high-quality benchmark")."""
import os
import os.path as osp
from typing import List

from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset


@DATASETS.register_module()
class MSVR310(BaseMultiModalReIDDataset):
    """MSVR310: vehicle triplets grouped by vehicle id, with scene ids.

    Layout (``data_root`` is the ``MSVR310`` folder)::

        MSVR310/{bounding_box_train,query3,bounding_box_test}/
          <vid>/{vis,ni,th}/<name>.jpg

    The same ``<name>`` appears in ``vis`` (RGB), ``ni`` (NI) and ``th``
    (TI). ``0019_s012_v0_000.jpg`` → vid (pid) 19, scene 12, view 0;
    ``camid`` is the view (already 0-based), ``sceneid`` the scene. The
    evaluation excludes gallery items with the same id AND the same scene.
    The ``<vid>`` folder must equal the file's vid. ``split='test'`` =
    ``query3`` (``is_query``) + ``bounding_box_test`` (``is_gallery``).

    Args:
        data_root (str): The ``MSVR310`` folder.
        split (str): ``'train'`` or ``'test'``.
        pipeline (list): Data pipeline.
        modalities (Sequence[str], optional): Subset / order of
            ``('RGB', 'NI', 'TI')`` (folders ``vis``, ``ni``, ``th``).
        **kwargs: See :class:`BaseMultiModalReIDDataset`.

    ``data_info`` adds ``sceneid: int``.
    """

    DATASET_NAME = 'MSVR310'
    MODALITIES = ('RGB', 'NI', 'TI')
    MODALITY_FOLDERS = {'RGB': 'vis', 'NI': 'ni', 'TI': 'th'}
    SPLITS = {
        'train': [('bounding_box_train', False, False)],
        'test': [('query3', True, False), ('bounding_box_test', False, True)],
    }
    NAME_PATTERN = (r'(?P<pid>\d+)_s(?P<sceneid>\d+)_v(?P<camid>\d+)'
                    r'(?:_[^/]*)?\.(?:jpe?g|png|bmp|tiff?)')
    NAME_EXAMPLE = '0019_s012_v0_000.jpg'
    CAMID_BASE = 0
    LAYOUT = ('  MSVR310/{bounding_box_train,query3,bounding_box_test}/<vid>/'
              '{vis,ni,th}/<vid>_s<scene>_v<view>_<n>.jpg  (same file name '
              'in the three modality folders, e.g. 0019_s012_v0_000.jpg)')
    SOURCE = ('from the authors of MSVR310 (Zheng et al., "Multi-spectral '
              'vehicle re-identification with cross-directional consistency '
              'network and a high-quality benchmark")')

    def scan_folder(self, folder: str) -> List[dict]:
        """Samples of every ``<vid>`` sub-folder, vids in numeric order."""
        vid_dirs = sorted(
            (d for d in os.listdir(folder)
             if not d.startswith('.') and osp.isdir(osp.join(folder, d))),
            key=lambda d: (not d.isdigit(), int(d) if d.isdigit() else 0, d))
        infos = []
        for vid_dir in vid_dirs:
            path = osp.join(folder, vid_dir)
            if not vid_dir.isdigit():
                raise ValueError(
                    f'MSVR310: folder {path!r} is not a vehicle-id folder '
                    f'(expected digits such as 0019). Expected layout:\n'
                    f'{self.LAYOUT}')
            vid_infos = self.scan_modality_dirs(
                {m: osp.join(path, self.modality_folders[m])
                 for m in self.modalities})
            for info in vid_infos:
                if info['pid'] != int(vid_dir):
                    raise ValueError(
                        f'MSVR310: file {info["img_path"][0]!r} has vid '
                        f'{info["pid"]} but lies in the folder of vid '
                        f'{int(vid_dir)}; the file-name rule '
                        f'{self.name_pattern!r} requires both to agree.')
            infos.extend(vid_infos)
        return infos
