# Copyright (c) mmieee contributors.
"""Base class of the multi-modal Re-ID datasets (the data contract is in
docs/architecture.md).

Every dataset of mmieee lists *samples*: one image per modality of the same
person/vehicle at the same moment (an RGB / NI / TI triplet for RGBNT201).
Where the files are and how their names are read is a
:class:`~.layout.DatasetLayout`: each dataset class states its layout once,
as the class default ``LAYOUT``, and every layout field is also a
constructor argument that overrides it. This class holds the rest:

* ``modalities=`` selects and orders a subset of the layout's modalities;
* ``split='train'|'test'``; a test split is one folder whose samples are
  both query and gallery, or a query and a gallery folder;
* contiguous, deterministic training labels (``gt_label`` = rank of the pid
  among the sorted training pids);
* checks with messages that say what to do: a missing ``data_root`` or split
  folder, a sample whose file in another modality is missing, a file name
  that breaks the naming rule, a broken symbolic link, an empty split.

``data_info`` keys: ``img_path`` (list of str, one per modality in
``metainfo['modalities']`` order), ``gt_label``, ``pid``, ``camid``
(0-based), ``sceneid`` (layouts whose names carry one), ``is_query`` /
``is_gallery`` (test split), and for side-by-side files ``modality_slices``
and ``img_width`` (see :class:`~.layout.DatasetLayout`, ``tile_width``).
"""
import os
import os.path as osp
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmieee.registry import DATASETS
from mmieee.utils.errors import format_listing

from .layout import DatasetLayout, list_image_names

#: Shown in every "dataset not found" message.
README_HINT = 'see docs/datasets.md'


@DATASETS.register_module()
class BaseMultiModalReIDDataset(BaseDataset):
    """Multi-modal Re-ID samples read from a :class:`DatasetLayout`.

    Args:
        data_root (str): The dataset folder (e.g. ``data/RGBNT201``).
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        pipeline (list[dict | Callable]): Data pipeline. Defaults to ``()``.
        modalities (str | Sequence[str], optional): Modalities to load and
            their order, e.g. ``('RGB', 'TI')`` or ``('TI', 'RGB')``. ``None``
            loads all of the layout's modalities in canonical order.
        metainfo (dict, optional): Extra meta information; ``modalities`` is
            always set from ``modalities``.
        test_mode (bool, optional): Defaults to ``split == 'test'``.
        **kwargs: Layout fields (``dataset_name``, ``modality_folders``,
            ``split_folders``, ``name_pattern``, ``name_format``,
            ``camid_base``, ``junk_pids``, ``id_folder_format``,
            ``tile_width``, ``source``; defaults: the class's ``LAYOUT``)
            and arguments of :class:`mmengine.dataset.BaseDataset`
            (``lazy_init``, ``serialize_data``, ``indices``, ...).
    """

    #: The dataset's layout; constructor arguments override its fields.
    LAYOUT = DatasetLayout()

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 modalities: Optional[Union[str, Sequence[str]]] = None,
                 metainfo: Optional[Mapping] = None,
                 test_mode: Optional[bool] = None,
                 **kwargs) -> None:
        overrides = {
            k: kwargs.pop(k)
            for k in DatasetLayout.field_names() if k in kwargs
        }
        self.layout = self.LAYOUT.replace(**overrides)
        name = self.layout.dataset_name
        if split not in ('train', 'test'):
            raise ValueError(f"{name}: split={split!r} is not 'train' or "
                             "'test'.")
        if data_root is None or not isinstance(data_root,
                                               (str, os.PathLike)):
            raise TypeError(f'{name}: data_root must be a path (str), got '
                            f'{data_root!r}.')
        if split == 'train' and not self.layout.has_ids:
            raise ValueError(
                f'{name}: name_pattern=None (file names without ids) is '
                "only for split='test': training needs every sample's id.")
        self.split = split
        self.modalities = self._select_modalities(modalities)
        metainfo = dict(metainfo or {})
        metainfo.update(
            dataset_name=name, modalities=self.modalities, split=split)
        if test_mode is None:
            test_mode = split != 'train'
        super().__init__(
            data_root=os.fspath(data_root),
            metainfo=metainfo,
            pipeline=list(pipeline),
            test_mode=test_mode,
            **kwargs)

    @property
    def name(self) -> str:
        """The dataset's name (``layout.dataset_name``)."""
        return self.layout.dataset_name

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
    # Reading the layout.
    # ------------------------------------------------------------------
    def _select_modalities(
            self, modalities: Optional[Union[str, Sequence[str]]]
    ) -> tuple:
        available = self.layout.modalities
        if modalities is None:
            return available
        if isinstance(modalities, str):
            modalities = (modalities, )
        modalities = tuple(modalities)
        if not modalities:
            raise ValueError(f'{self.name}: modalities is empty; choose from '
                             f'{available}.')
        unknown = [m for m in modalities if m not in available]
        if unknown:
            raise ValueError(
                f'{self.name}: unknown modality '
                f'{", ".join(map(repr, unknown))} in modalities='
                f'{modalities!r}; available modalities: {available}.')
        if len(set(modalities)) != len(modalities):
            raise ValueError(f'{self.name}: modalities={modalities!r} names '
                             'a modality twice.')
        return modalities

    def not_found_error(self, path: str, what: str) -> FileNotFoundError:
        """The error for a missing data_root / split / modality folder."""
        return FileNotFoundError(
            f'{self.name}: {what} {path!r} does not exist.\n'
            f'Expected layout:\n{self.layout.describe()}\n'
            f'The dataset is obtained {self.layout.source} ({README_HINT}).')

    def list_images(self, folder: str) -> List[str]:
        """Sorted image file names in ``folder``; broken symbolic links are
        an error listing them (:func:`~.layout.list_image_names`)."""
        return list_image_names(folder, self.name)

    def parse_name(self,
                   name: str,
                   path: str,
                   pid: Optional[int] = None) -> Optional[dict]:
        """Read pid / camid (/ sceneid) from a file name.

        Args:
            name (str): The file name (no folder).
            path (str): The full path, for messages.
            pid (int, optional): The identity of the folder the file lies
                in (identity-folder layouts); used when the names carry
                none.

        Returns:
            dict | None: ``dict(pid=..., camid=...[, sceneid=...])`` (empty
            for a layout without ids), or ``None`` for a junk pid (sample
            dropped).
        """
        info = self.layout.parse_ids(name)
        if info is None:
            self._raise_bad_name([path])
        if not info:
            return info
        if 'pid' not in info:
            info = dict(pid=pid, **info)
        if info['pid'] in self.layout.junk_pids:
            return None
        if info['camid'] < 0:
            raise ValueError(
                f'{self.name}: file {path!r} has camera '
                f'{info["camid"] + self.layout.camid_base}, but camera '
                f'numbers start at {self.layout.camid_base} in this '
                "dataset's file names.")
        return info

    def _raise_bad_name(self, paths: Sequence[str]) -> None:
        example = (f' (e.g. {self.layout.example_name()!r})'
                   if self.layout.name_format else '')
        raise ValueError(
            f'{self.name}: file {paths[0]!r} does not match the file-name '
            f"rule r'{self.layout.name_pattern}'{example} (regex, matched "
            'against the whole file name, case-insensitive). '
            f'{len(paths)} file(s) break the rule: '
            f'{format_listing(list(paths))}.')

    def check_names(self, folder: str, names: Sequence[str]) -> None:
        """Raise if any file name in ``folder`` breaks the naming rule."""
        bad = [
            osp.join(folder, n) for n in names
            if self.layout.parse_ids(n) is None
        ]
        if bad:
            self._raise_bad_name(bad)

    def scan_modality_dirs(self,
                           dirs: Mapping[str, str],
                           pid: Optional[int] = None) -> List[dict]:
        """Samples from one folder per modality holding same-named files.

        Args:
            dirs (Mapping[str, str]): Selected modality → folder, in the
                order of ``self.modalities``.
            pid (int, optional): Identity of the enclosing identity folder
                (for names that carry none).

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
            names[modality] = self.list_images(folder)
            self.check_names(folder, names[modality])
        sets = {m: set(n) for m, n in names.items()}
        union = sorted(set().union(*sets.values()))
        missing = [
            osp.join(dirs[m], n) for n in union for m in dirs
            if n not in sets[m]
        ]
        if missing:
            raise FileNotFoundError(
                f'{self.name}: {len(missing)} file(s) missing: every sample '
                'needs one image per modality '
                f'({", ".join(dirs)}) with the same file name. Missing: '
                f'{format_listing(missing)}. No sample is dropped silently; '
                'restore the files or remove the incomplete samples.')
        infos = []
        for name in union:
            info = self.parse_name(
                name, osp.join(next(iter(dirs.values())), name), pid)
            if info is None:
                continue
            info['img_path'] = [osp.join(dirs[m], name) for m in dirs]
            infos.append(info)
        return infos

    def scan_tiled_files(self, folder: str) -> List[dict]:
        """Samples stored one file each, the modalities side by side.

        ``img_path`` repeats the file once per selected modality and
        ``modality_slices`` gives, in the same order, the ``(x0, x1)``
        column range (x1 exclusive) of each modality in the file;
        ``img_width`` is the width the file must have (checked by
        :class:`~.transforms.LoadMultiModalImages`).
        """
        names = self.list_images(folder)
        self.check_names(folder, names)
        w = int(self.layout.tile_width)
        order = self.layout.modalities
        slices = [(order.index(m) * w, (order.index(m) + 1) * w)
                  for m in self.modalities]
        infos = []
        for name in names:
            path = osp.join(folder, name)
            info = self.parse_name(name, path)
            if info is None:
                continue
            info.update(img_path=[path] * len(self.modalities),
                        modality_slices=list(slices),
                        img_width=w * len(order))
            infos.append(info)
        return infos

    def scan_id_folders(self, folder: str) -> List[dict]:
        """Samples of every identity folder (``id_folder_format``), ids in
        numeric order; each folder's files must carry its id (or, where the
        names carry none, get it)."""
        id_dirs = sorted(
            (d for d in os.listdir(folder)
             if not d.startswith('.') and osp.isdir(osp.join(folder, d))),
            key=lambda d: (not d.isdigit(), int(d) if d.isdigit() else 0, d))
        infos = []
        for id_dir in id_dirs:
            path = osp.join(folder, id_dir)
            if not id_dir.isdigit():
                raise ValueError(
                    f'{self.name}: folder {path!r} is not an identity folder '
                    '(expected digits, e.g. '
                    f'{self.layout.id_folder_format.format(pid=19)}). '
                    f'Expected layout:\n{self.layout.describe()}')
            id_infos = self.scan_modality_dirs(
                {
                    m: osp.join(path, self.layout.modality_folders[m])
                    for m in self.modalities
                },
                pid=int(id_dir))
            for info in id_infos:
                if info['pid'] != int(id_dir):
                    raise ValueError(
                        f'{self.name}: file {info["img_path"][0]!r} has id '
                        f'{info["pid"]} but lies in the folder of id '
                        f'{int(id_dir)}; the file-name rule '
                        f'{self.layout.name_pattern!r} requires both to '
                        'agree.')
            infos.extend(id_infos)
        return infos

    def scan_folder(self, folder: str) -> List[dict]:
        """The samples of one split folder, as the layout says.

        Args:
            folder (str): Absolute path of the split folder.

        Returns:
            list[dict]: ``data_info`` dicts without labels / flags.
        """
        if self.layout.tile_width is not None:
            return self.scan_tiled_files(folder)
        if self.layout.id_folder_format is not None:
            return self.scan_id_folders(folder)
        return self.scan_modality_dirs({
            m: osp.join(folder, self.layout.modality_folders[m])
            for m in self.modalities
        })

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
        for rel, is_query, is_gallery in self.layout.split_parts(self.split):
            folder = osp.join(root, rel)
            if not osp.isdir(folder):
                raise self.not_found_error(folder,
                                           f'{self.split!r} split folder')
            infos = self.scan_folder(folder)
            if not infos:
                raise ValueError(
                    f'{self.name}: split {self.split!r} folder {folder!r} '
                    'holds no sample (no image files, or only junk ids). '
                    f'Expected layout:\n{self.layout.describe()}')
            if self.split != 'train':
                for info in infos:
                    info['is_query'] = bool(is_query)
                    info['is_gallery'] = bool(is_gallery)
            data_list.extend(infos)

        pids = sorted({info['pid'] for info in data_list if 'pid' in info})
        if self.split == 'train':
            pid2label = {pid: label for label, pid in enumerate(pids)}
            for info in data_list:
                info['gt_label'] = pid2label[info['pid']]
        else:
            for info in data_list:
                if 'pid' in info:
                    info['gt_label'] = info['pid']
        self._metainfo.update(
            classes=tuple(str(pid) for pid in pids),
            num_ids=len(pids),
            num_cameras=len({info['camid'] for info in data_list
                             if 'camid' in info}))
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """The data_info of sample ``idx`` plus ``modalities`` (its order).

        The modality names are added here rather than stored per sample so
        that they reach the packed data samples (and the model's modality
        check) without being serialised N times.
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
