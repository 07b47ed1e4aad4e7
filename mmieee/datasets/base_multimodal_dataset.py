# Copyright (c) mmieee contributors.
"""Base class of the multi-modal Re-ID datasets (DESIGN §3 data contract, §6).

Every dataset of mmieee lists *samples*: one image per modality of the same
person/vehicle at the same moment (an RGB / NI / TI triplet for RGBNT201).
This module holds what all of them share so that each dataset file only says
where its files are and how its file names are read:

* ``modalities=`` selects and orders a subset of the dataset's modalities;
* ``split='train'|'test'``; a test split is made of one or more folders whose
  samples are flagged ``is_query`` / ``is_gallery``;
* contiguous, deterministic training labels (``gt_label`` = rank of the pid
  among the sorted training pids);
* checks with messages that say what to do: a missing ``data_root`` or split
  folder, a sample whose file in another modality is missing, a file name
  that breaks the dataset's naming rule, an empty split.

``data_info`` keys (DESIGN §3): ``img_path`` (list of str, one per modality in
``metainfo['modalities']`` order), ``gt_label``, ``pid``, ``camid`` (0-based),
``sceneid`` (datasets that have scenes), ``is_query`` / ``is_gallery`` (test
split), and dataset-specific extras (``modality_slices`` for RGBNT100).
"""
import os
import os.path as osp
import re
from typing import (Callable, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Union)

import numpy as np
from mmengine.dataset import BaseDataset

from mmieee.registry import DATASETS

#: File extensions treated as images; other files (``Thumbs.db``, notes,
#: hidden files) in a modality folder are ignored.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')

#: Shown in every "dataset not found" message.
README_HINT = "see README, section 'Preparing datasets'"

#: How many file names an error message lists before giving the count.
MAX_LISTED = 5

#: One folder of a split: (folder relative to data_root, is_query,
#: is_gallery). For a training split both flags are ignored.
SplitFolder = Tuple[str, bool, bool]


def is_image_file(name: str) -> bool:
    """Whether ``name`` is an image file the datasets read (not hidden)."""
    return (not name.startswith('.')
            and name.lower().endswith(IMG_EXTENSIONS))


def list_images(folder: str) -> List[str]:
    """Sorted image file names (not paths) directly inside ``folder``."""
    return sorted(n for n in os.listdir(folder)
                  if is_image_file(n) and osp.isfile(osp.join(folder, n)))


def format_listing(items: Sequence[str], limit: int = MAX_LISTED) -> str:
    """``'a, b, c, ... (12 in total)'`` for error messages."""
    shown = ', '.join(items[:limit])
    if len(items) > limit:
        shown += f', ... ({len(items)} in total)'
    return shown


@DATASETS.register_module()
class BaseMultiModalReIDDataset(BaseDataset):
    """Shared logic of the multi-modal Re-ID datasets.

    Subclasses set the class attributes below and, when their layout is not
    "one folder per modality inside each split folder", override
    :meth:`scan_folder`.

    Class attributes:
        DATASET_NAME (str): Name used in messages.
        MODALITIES (tuple[str]): Available modalities, canonical order.
        MODALITY_FOLDERS (dict[str, str]): Modality → folder name inside a
            split folder (default: the modality name).
        SPLITS (dict[str, list[SplitFolder]]): ``'train'`` / ``'test'`` →
            folders of that split with their query/gallery flags.
        NAME_PATTERN (str): Regex (``re.fullmatch`` on the file name,
            case-insensitive) with named groups ``pid`` and ``camid``
            (optional ``sceneid``).
        NAME_EXAMPLE (str): A valid file name, shown in messages.
        CAMID_BASE (int): Camera number of the first camera in file names;
            subtracted so that ``camid`` is 0-based.
        JUNK_PIDS (tuple[int]): pids whose samples are dropped (Market's -1).
        LAYOUT (str): The expected folder layout, shown in messages.
        SOURCE (str): Where the dataset is obtained, shown in messages.

    Args:
        data_root (str): The dataset folder (e.g. ``data/RGBNT201``).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        pipeline (list[dict | Callable]): Data pipeline. Defaults to ``()``.
        modalities (str | Sequence[str], optional): Modalities to load and
            their order, e.g. ``('RGB', 'TI')`` or ``('TI', 'RGB')``. ``None``
            loads all of :attr:`MODALITIES` in canonical order.
        metainfo (dict, optional): Extra meta information; ``modalities`` is
            always set from ``modalities``.
        test_mode (bool, optional): Defaults to ``split == 'test'``.
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`
            (``lazy_init``, ``serialize_data``, ``indices``, ...).
    """

    DATASET_NAME: str = 'multi-modal Re-ID dataset'
    MODALITIES: Tuple[str, ...] = ('RGB', 'NI', 'TI')
    MODALITY_FOLDERS: Dict[str, str] = {}
    SPLITS: Dict[str, List[SplitFolder]] = {}
    NAME_PATTERN: str = r'(?P<pid>-?\d+)_c(?P<camid>\d+).*'
    NAME_EXAMPLE: str = ''
    CAMID_BASE: int = 0
    JUNK_PIDS: Tuple[int, ...] = ()
    LAYOUT: str = ''
    SOURCE: str = ''

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 modalities: Optional[Union[str, Sequence[str]]] = None,
                 metainfo: Optional[Mapping] = None,
                 test_mode: Optional[bool] = None,
                 **kwargs) -> None:
        splits = self._available_splits()
        if split not in splits:
            raise ValueError(
                f'{self.DATASET_NAME}: split={split!r} is not one of '
                f'{sorted(splits)}.')
        if data_root is None or not isinstance(data_root,
                                               (str, os.PathLike)):
            raise TypeError(f'{self.DATASET_NAME}: data_root must be a path '
                            f'(str), got {data_root!r}.')
        self.split = split
        self.modalities = self._select_modalities(modalities)
        self._name_regex = re.compile(self.name_pattern, re.IGNORECASE)
        for group in ('pid', 'camid'):
            if group not in self._name_regex.groupindex:
                raise ValueError(
                    f'{self.DATASET_NAME}: the file-name pattern '
                    f'{self.name_pattern!r} has no named group {group!r} '
                    '(write e.g. (?P<pid>\\d+) and (?P<camid>\\d+)).')
        metainfo = dict(metainfo or {})
        metainfo.update(
            dataset_name=self.DATASET_NAME,
            modalities=self.modalities,
            split=split)
        if test_mode is None:
            test_mode = split != 'train'
        super().__init__(
            data_root=os.fspath(data_root),
            metainfo=metainfo,
            pipeline=list(pipeline),
            test_mode=test_mode,
            **kwargs)

    @classmethod
    def _load_metainfo(cls, metainfo: Optional[Mapping] = None) -> dict:
        # BaseDataset reads every str value as a possible meta file path and
        # warns; our str values are names, so add them after its pass.
        metainfo = dict(metainfo or {})
        names = {k: metainfo.pop(k) for k in ('dataset_name', 'split')
                 if k in metainfo}
        out = super()._load_metainfo(metainfo)
        out.update(names)
        return out

    # ------------------------------------------------------------------
    # Hooks subclasses may override.
    # ------------------------------------------------------------------
    @property
    def name_pattern(self) -> str:
        """The file-name regex (see :attr:`NAME_PATTERN`)."""
        return self.NAME_PATTERN

    @property
    def modality_folders(self) -> Dict[str, str]:
        """Modality name → folder name."""
        return {m: self.MODALITY_FOLDERS.get(m, m) for m in self.MODALITIES}

    def _available_splits(self) -> Dict[str, List[SplitFolder]]:
        return self.SPLITS

    def split_folders(self) -> List[SplitFolder]:
        """Folders (relative to ``data_root``) of the current split."""
        return list(self._available_splits()[self.split])

    def scan_folder(self, folder: str) -> List[dict]:
        """List the samples of one split folder.

        Default layout: ``folder/<modality folder>/<name>`` with the same
        ``<name>`` in every modality folder.

        Args:
            folder (str): Absolute path of the split folder.

        Returns:
            list[dict]: ``data_info`` dicts without labels / flags.
        """
        return self.scan_modality_dirs(
            {m: osp.join(folder, self.modality_folders[m])
             for m in self.modalities})

    # ------------------------------------------------------------------
    # Building blocks.
    # ------------------------------------------------------------------
    def _select_modalities(
            self, modalities: Optional[Union[str, Sequence[str]]]
    ) -> Tuple[str, ...]:
        available = tuple(self.MODALITIES)
        if modalities is None:
            return available
        if isinstance(modalities, str):
            modalities = (modalities, )
        modalities = tuple(modalities)
        if not modalities:
            raise ValueError(
                f'{self.DATASET_NAME}: modalities is empty; choose from '
                f'{available}.')
        unknown = [m for m in modalities if m not in available]
        if unknown:
            raise ValueError(
                f'{self.DATASET_NAME}: unknown modality '
                f'{", ".join(map(repr, unknown))} in modalities='
                f'{modalities!r}; available modalities: {available}.')
        if len(set(modalities)) != len(modalities):
            raise ValueError(
                f'{self.DATASET_NAME}: modalities={modalities!r} names a '
                'modality twice.')
        return modalities

    def not_found_error(self, path: str, what: str) -> FileNotFoundError:
        """The error for a missing data_root / split / modality folder."""
        return FileNotFoundError(
            f'{self.DATASET_NAME}: {what} {path!r} does not exist.\n'
            f'Expected layout:\n{self.LAYOUT}\n'
            f'The dataset is obtained {self.SOURCE} ({README_HINT}).')

    def parse_name(self, name: str, path: str) -> Optional[dict]:
        """Read pid / camid (/ sceneid) from a file name.

        Args:
            name (str): The file name (no folder).
            path (str): The full path, for messages.

        Returns:
            dict | None: ``dict(pid=..., camid=...[, sceneid=...])``, or
            ``None`` for a junk pid (sample dropped).
        """
        match = self._name_regex.fullmatch(name)
        if match is None:
            self._raise_bad_name([path])
        info = dict(pid=int(match.group('pid')))
        if info['pid'] in self.JUNK_PIDS:
            return None
        cam = int(match.group('camid'))
        camid = cam - self.camid_base
        if camid < 0:
            raise ValueError(
                f'{self.DATASET_NAME}: file {path!r} has camera {cam}, but '
                f'camera numbers start at {self.camid_base} in this '
                'dataset\'s file names.')
        info['camid'] = camid
        if 'sceneid' in self._name_regex.groupindex and match.group(
                'sceneid') is not None:
            info['sceneid'] = int(match.group('sceneid'))
        return info

    @property
    def camid_base(self) -> int:
        """Camera number of the first camera in file names."""
        return self.CAMID_BASE

    def _raise_bad_name(self, paths: Sequence[str]) -> None:
        example = (f' (e.g. {self.NAME_EXAMPLE!r})'
                   if self.NAME_EXAMPLE else '')
        raise ValueError(
            f'{self.DATASET_NAME}: file {paths[0]!r} does not match the '
            f"file-name rule r'{self.name_pattern}'{example} (regex, "
            'matched against the whole file name, case-insensitive). '
            f'{len(paths)} file(s) break the rule: '
            f'{format_listing(list(paths))}.')

    def check_names(self, folder: str, names: Sequence[str]) -> None:
        """Raise if any file name in ``folder`` breaks the naming rule."""
        bad = [
            osp.join(folder, n) for n in names
            if self._name_regex.fullmatch(n) is None
        ]
        if bad:
            self._raise_bad_name(bad)

    def scan_modality_dirs(self, dirs: Mapping[str, str]) -> List[dict]:
        """Samples from one folder per modality holding same-named files.

        Args:
            dirs (Mapping[str, str]): Selected modality → folder, in the
                order of ``self.modalities``.

        Returns:
            list[dict]: One ``data_info`` per file name (sorted), with
            ``img_path`` ordered as ``self.modalities``.

        Raises:
            FileNotFoundError: A folder is missing, or a file name is present
                in some modality folders and missing in others (all missing
                files are counted, the first few are listed).
            ValueError: A file name breaks the naming rule.
        """
        names: Dict[str, List[str]] = {}
        for modality, folder in dirs.items():
            if not osp.isdir(folder):
                raise self.not_found_error(folder,
                                           f'{modality} modality folder')
            names[modality] = list_images(folder)
            self.check_names(folder, names[modality])
        sets = {m: set(n) for m, n in names.items()}
        union = sorted(set().union(*sets.values()))
        missing = [
            osp.join(dirs[m], n) for n in union for m in dirs
            if n not in sets[m]
        ]
        if missing:
            raise FileNotFoundError(
                f'{self.DATASET_NAME}: {len(missing)} file(s) missing: '
                'every sample needs one image per modality '
                f'({", ".join(dirs)}) with the same file name. Missing: '
                f'{format_listing(missing)}. No sample is dropped silently; '
                'restore the files or remove the incomplete samples.')
        infos = []
        for name in union:
            info = self.parse_name(name, osp.join(next(iter(dirs.values())),
                                                  name))
            if info is None:
                continue
            info['img_path'] = [osp.join(dirs[m], name) for m in dirs]
            infos.append(info)
        return infos

    # ------------------------------------------------------------------
    # mmengine BaseDataset interface.
    # ------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Scan the split's folders and return the ``data_info`` list.

        Train split: ``gt_label`` is the index of ``pid`` among the sorted
        training pids. Test split: ``gt_label = pid``; ``is_query`` and
        ``is_gallery`` come from the folder the sample was found in.
        Also sets ``metainfo`` keys ``classes`` (str pids, sorted),
        ``num_ids``, ``num_cameras``.
        """
        root = self.data_root
        if not osp.isdir(root):
            raise self.not_found_error(root, 'data_root')
        data_list: List[dict] = []
        for rel, is_query, is_gallery in self.split_folders():
            folder = osp.join(root, rel)
            if not osp.isdir(folder):
                raise self.not_found_error(folder,
                                           f'{self.split!r} split folder')
            infos = self.scan_folder(folder)
            if not infos:
                raise ValueError(
                    f'{self.DATASET_NAME}: split {self.split!r} folder '
                    f'{folder!r} holds no sample (no image files, or only '
                    f'junk ids). Expected layout:\n{self.LAYOUT}')
            if self.split != 'train':
                for info in infos:
                    info['is_query'] = bool(is_query)
                    info['is_gallery'] = bool(is_gallery)
            data_list.extend(infos)

        pids = sorted({info['pid'] for info in data_list})
        if self.split == 'train':
            pid2label = {pid: label for label, pid in enumerate(pids)}
            for info in data_list:
                info['gt_label'] = pid2label[info['pid']]
        else:
            for info in data_list:
                info['gt_label'] = info['pid']
        self._metainfo.update(
            classes=tuple(str(pid) for pid in pids),
            num_ids=len(pids),
            num_cameras=len({info['camid'] for info in data_list}))
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """The data_info of sample ``idx`` plus ``modalities`` (its order).

        The modality names are added here rather than stored per sample so
        that they reach the packed data samples (DESIGN §3) without being
        serialised N times.
        """
        info = super().get_data_info(idx)
        info['modalities'] = tuple(self.metainfo['modalities'])
        return info

    # ------------------------------------------------------------------
    # Convenience accessors (samplers, analysis).
    # ------------------------------------------------------------------
    def get_cat_ids(self, idx: int) -> List[int]:
        """``[gt_label]`` of sample ``idx`` (mmpretrain convention)."""
        return [int(self.get_data_info(idx)['gt_label'])]

    def get_gt_labels(self) -> np.ndarray:
        """``gt_label`` of every sample, shape (N,), int64."""
        return np.array(
            [self.get_data_info(i)['gt_label'] for i in range(len(self))],
            dtype=np.int64)

    def get_pids(self) -> np.ndarray:
        """``pid`` of every sample, shape (N,), int64."""
        return np.array(
            [self.get_data_info(i)['pid'] for i in range(len(self))],
            dtype=np.int64)

    def __repr__(self) -> str:
        head = f'{self.__class__.__name__}(split={self.split!r}, ' \
               f'modalities={self.modalities!r}, data_root={self.data_root!r}'
        if self._fully_initialized:
            head += f', num_samples={len(self)}, ' \
                    f'num_ids={self._metainfo.get("num_ids")}'
        return head + ')'
