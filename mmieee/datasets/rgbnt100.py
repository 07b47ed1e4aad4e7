# Copyright (c) mmieee contributors.
"""RGBNT100 multi-spectral vehicle Re-ID dataset, side-by-side files
(DESIGN §6; Li et al., "Multi-Spectral Vehicle Re-Identification: A
Challenge", AAAI 2020)."""
import os.path as osp
from typing import List

from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset, list_images


@DATASETS.register_module()
class RGBNT100(BaseMultiModalReIDDataset):
    """RGBNT100: one file per sample with RGB | NI | TI side by side.

    Layout (``data_root`` is the ``RGBNT100`` folder)::

        RGBNT100/rgbir/
          bounding_box_train/<name>.jpg
          query/<name>.jpg
          bounding_box_test/<name>.jpg

    Each file is 768 × 128 (w × h): x 0–256 is RGB, 256–512 NI, 512–768 TI.
    ``0561_c0001_006.jpg`` → pid 561, camera 1 (``camid`` 0); 8 cameras.
    ``split='test'`` = ``query`` (``is_query``) + ``bounding_box_test``
    (``is_gallery``).

    The contract "one ``img_path`` per modality" holds: ``img_path`` repeats
    the file path once per selected modality, and the key
    ``modality_slices: list[tuple[int, int]]`` gives, in the same order, the
    ``(x0, x1)`` column range (x1 exclusive) of each modality inside the
    file. ``LoadMultiModalImages`` crops ``img[:, x0:x1]`` for each entry.

    Args:
        data_root (str): The ``RGBNT100`` folder.
        split (str): ``'train'`` or ``'test'``.
        pipeline (list): Data pipeline.
        modalities (Sequence[str], optional): Subset / order of
            ``('RGB', 'NI', 'TI')``.
        tile_width (int): Width of one modality inside a file. Defaults to
            256 (the released files); smaller for synthetic data.
        **kwargs: See :class:`BaseMultiModalReIDDataset`.
    """

    DATASET_NAME = 'RGBNT100'
    MODALITIES = ('RGB', 'NI', 'TI')
    SPLITS = {
        'train': [('rgbir/bounding_box_train', False, False)],
        'test': [('rgbir/query', True, False),
                 ('rgbir/bounding_box_test', False, True)],
    }
    NAME_PATTERN = (r'(?P<pid>\d+)_c(?P<camid>\d+)(?:_[^/]*)?'
                    r'\.(?:jpe?g|png|bmp|tiff?)')
    NAME_EXAMPLE = '0561_c0001_006.jpg'
    CAMID_BASE = 1
    LAYOUT = ('  RGBNT100/rgbir/{bounding_box_train,query,bounding_box_test}/'
              '<pid>_c<cam>_<n>.jpg  (one 768x128 file per sample, RGB | NI '
              '| TI side by side, e.g. 0561_c0001_006.jpg)')
    SOURCE = ('from the authors of RGBNT100 (Li et al., "Multi-Spectral '
              'Vehicle Re-Identification: A Challenge", AAAI 2020)')

    def __init__(self, *args, tile_width: int = 256, **kwargs) -> None:
        if int(tile_width) <= 0:
            raise ValueError(
                f'RGBNT100: tile_width must be positive, got {tile_width!r}.')
        self.tile_width = int(tile_width)
        super().__init__(*args, **kwargs)

    def modality_slices(self) -> List[tuple]:
        """``(x0, x1)`` of each selected modality, in selection order."""
        w = self.tile_width
        return [(self.MODALITIES.index(m) * w,
                 (self.MODALITIES.index(m) + 1) * w) for m in self.modalities]

    def scan_folder(self, folder: str) -> List[dict]:
        """One sample per file; see the class docstring."""
        names = list_images(folder)
        self.check_names(folder, names)
        slices = self.modality_slices()
        infos = []
        for name in names:
            path = osp.join(folder, name)
            info = self.parse_name(name, path)
            if info is None:
                continue
            info['img_path'] = [path] * len(self.modalities)
            info['modality_slices'] = list(slices)
            infos.append(info)
        return infos
