# Copyright (c) mmieee contributors.
"""How a multi-modal Re-ID dataset lays out its files: one declaration that
the dataset classes read from and the synthetic-data generator writes to.

A :class:`DatasetLayout` names the folders of each split, the folder of each
modality, the file-name rule (a regex with named groups ``pid`` and
``camid``, optionally ``sceneid``) and, for the two unusual layouts, whether
samples are grouped in one folder per identity (MSVR310, WMVEID863; where
the names carry no ``pid``, the folder gives it) or stored as one file
holding the modalities side by side (RGBNT100). Each dataset class
states its layout once, as the class default ``LAYOUT``; every field can be
overridden by a constructor argument of the same name (mmpretrain's
``CustomDataset`` style), which is how :class:`MultiModalFolderDataset`
reads any layout.
"""
import dataclasses
import os
import os.path as osp
import re
from typing import List, Mapping, Optional, Sequence, Tuple, Union

from mmieee.utils.errors import format_listing

#: File extensions of image files; anything else in a folder is ignored.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')

#: Values used to render an example file name for messages.
_EXAMPLE_FIELDS = dict(pid=287, index=5, scene=12, frame=451)

#: One folder of a split: (folder relative to data_root, is_query,
#: is_gallery). For the training split both flags are False.
SplitFolder = Tuple[str, bool, bool]


@dataclasses.dataclass(frozen=True)
class DatasetLayout:
    """Folder layout and file-name rule of a multi-modal Re-ID dataset.

    Args:
        dataset_name (str): Used in messages, in ``metainfo`` and as the
            folder a generated copy is written to.
        modality_folders (Mapping[str, str] | Sequence[str]): Modality name
            -> folder name, in the canonical modality order; a sequence of
            names that are also the folder names.
        split_folders (Mapping[str, str]): Folders of ``'train'``,
            ``'query'`` and ``'gallery'``, relative to ``data_root``. When
            query and gallery name the same folder, every test sample is both
            (RGBNT201's protocol).
        name_pattern (str, optional): Regex matched against the whole file
            name (``re.fullmatch``, case-insensitive) with named groups
            ``pid`` and ``camid`` and optionally ``sceneid``. ``pid`` may be
            left out when ``id_folder_format`` is given: the identity is
            then the number of the identity folder. None: the names carry
            no ids (any image name; test splits only, e.g. a gallery folder
            searched with the inferencer).
        name_format (str, optional): ``str.format`` template of a file name
            without extension, with fields ``pid``, ``camera`` (the camera
            number as written in names), ``index``, ``scene``, ``frame``.
            Used for the example in messages and by the synthetic-data
            generator; when given it must render names that ``name_pattern``
            accepts.
        camid_base (int): Camera number of the first camera in file names
            (subtracted, so ``camid`` is 0-based).
        junk_pids (Sequence[int]): pids whose samples are dropped.
        id_folder_format (str, optional): Each split folder holds one folder
            per identity, named by this template of ``pid`` (e.g.
            ``'{pid:04d}'``), which holds the modality folders (MSVR310,
            WMVEID863). None: no identity folders.
        tile_width (int, optional): Each sample is one file with the
            modalities side by side, each ``tile_width`` pixels wide, in
            ``modality_folders`` order (RGBNT100); the modality folders are
            then unused.
        source (str): Where the dataset is obtained, for messages.
    """

    dataset_name: str = 'MultiModalFolderDataset'
    modality_folders: Union[Mapping[str, str], Sequence[str]] = (
        'RGB', 'NI', 'TI')
    split_folders: Mapping[str, str] = dataclasses.field(
        default_factory=lambda: dict(
            train='train', query='query', gallery='gallery'))
    name_pattern: Optional[str] = r'(?P<pid>-?\d+)_c(?P<camid>\d+).*'
    name_format: Optional[str] = None
    camid_base: int = 0
    junk_pids: Sequence[int] = (-1, )
    id_folder_format: Optional[str] = None
    tile_width: Optional[int] = None
    source: str = 'from wherever you keep your own data'

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise the fields once here
        name = self.dataset_name
        folders = self.modality_folders
        if isinstance(folders, str):
            folders = (folders, )
        if isinstance(folders, Mapping):
            folders = {str(k): str(v) for k, v in folders.items()}
        else:
            folders = {str(m): str(m) for m in folders}
        if not folders:
            raise ValueError(f'{name}: modality_folders is empty.')
        set_(self, 'modality_folders', folders)
        splits = dict(train='train', query='query', gallery='gallery')
        unknown = set(self.split_folders) - set(splits)
        if unknown:
            raise ValueError(
                f'{name}: split_folders has unknown key(s) '
                f'{sorted(unknown)}; allowed: {sorted(splits)}.')
        splits.update(self.split_folders)
        set_(self, 'split_folders', splits)
        set_(self, 'junk_pids', tuple(int(p) for p in self.junk_pids))
        set_(self, 'camid_base', int(self.camid_base))
        # names may leave the pid to the identity folders
        required = ('camid', ) if self.id_folder_format else ('pid', 'camid')
        for group in required if self.has_ids else ():
            if group not in self.regex.groupindex:
                raise ValueError(
                    f'{name}: the file-name pattern '
                    f'{self.name_pattern!r} has no named group {group!r} '
                    '(write e.g. (?P<pid>\\d+) and (?P<camid>\\d+); pid may '
                    'only be left out with identity folders, '
                    'id_folder_format).')
        if self.tile_width is not None and int(self.tile_width) <= 0:
            raise ValueError(f'{name}: tile_width must be positive, '
                             f'got {self.tile_width!r}.')
        if self.name_format is not None and self.has_ids:
            example = self.example_name()
            if self.regex.fullmatch(example) is None:
                raise ValueError(
                    f'{name}: name_format {self.name_format!r} renders '
                    f'{example!r}, which name_pattern {self.name_pattern!r} '
                    'rejects.')

    @property
    def modalities(self) -> Tuple[str, ...]:
        """The modalities, in canonical order."""
        return tuple(self.modality_folders)

    @property
    def has_ids(self) -> bool:
        """Whether file names carry ids (``name_pattern`` is not None)."""
        return self.name_pattern is not None

    @property
    def pid_in_names(self) -> bool:
        """Whether file names carry the ``pid`` (else the identity folder
        gives it)."""
        return self.has_ids and 'pid' in self.regex.groupindex

    @property
    def regex(self) -> Optional['re.Pattern']:
        """The compiled, case-insensitive file-name rule (None: no ids)."""
        return None if self.name_pattern is None else re.compile(
            self.name_pattern, re.IGNORECASE)

    def parse_ids(self, name: str) -> Optional[dict]:
        """The ids a file name carries by this layout's rule.

        Args:
            name (str): A file name (no folder).

        Returns:
            dict | None: ``dict(pid, camid[, sceneid])`` with ``camid``
            0-based (``camid_base`` subtracted; no ``pid`` where the names
            carry none), ``{}`` for a layout without ids, None when the
            name breaks the rule.
        """
        if not self.has_ids:
            return {}
        match = self.regex.fullmatch(name)
        if match is None:
            return None
        ids = dict(camid=int(match.group('camid')) - self.camid_base)
        if 'pid' in match.groupdict():
            ids = dict(pid=int(match.group('pid')), **ids)
        if match.groupdict().get('sceneid') is not None:
            ids['sceneid'] = int(match.group('sceneid'))
        return ids

    def split_parts(self, split: str) -> List[SplitFolder]:
        """The folders of ``'train'`` or ``'test'`` with their flags."""
        f = self.split_folders
        if split == 'train':
            return [(f['train'], False, False)]
        if f['query'] == f['gallery']:
            return [(f['query'], True, True)]
        return [(f['query'], True, False), (f['gallery'], False, True)]

    def file_name(self, pid: int, camid: int, index: int, ext: str = 'jpg',
                  scene: int = 1, frame: int = 0) -> str:
        """A file name of this layout (needs ``name_format``).

        Args:
            pid (int): Identity.
            camid (int): 0-based camera (``camid_base`` is added).
            index (int): Image index of the identity and camera.
            ext (str): Extension without the dot.
            scene (int): Scene number (layouts whose names carry one).
            frame (int): Frame number (layouts whose names carry one).

        Returns:
            str: The file name.
        """
        if self.name_format is None:
            raise ValueError(
                f'{self.dataset_name}: the layout has no name_format')
        stem = self.name_format.format(
            pid=pid, camera=camid + self.camid_base, index=index,
            scene=scene, frame=frame)
        return f'{stem}.{ext}'

    def example_name(self) -> str:
        """A valid file name, for messages (the first image extension the
        pattern accepts; ``.jpg`` if none)."""
        names = [self.file_name(camid=0, ext=ext.lstrip('.'),
                                **_EXAMPLE_FIELDS) for ext in IMG_EXTENSIONS]
        if not self.has_ids:
            return names[0]
        return next((n for n in names if self.regex.fullmatch(n)), names[0])

    def describe(self) -> str:
        """The expected layout, as shown in "not found" messages."""
        f = self.split_folders
        splits = ','.join(dict.fromkeys((f['train'], f['query'],
                                         f['gallery'])))
        mods = ','.join(self.modality_folders.values())
        if self.tile_width is not None:
            where = (f'<data_root>/{{{splits}}}/<name>  (one file '
                     f'per sample: {" | ".join(self.modalities)} side by '
                     f'side, {self.tile_width} pixels each)')
        elif self.id_folder_format is not None:
            where = (f'<data_root>/{{{splits}}}/<pid>/{{{mods}}}/'
                     '<name>  (same file name in every modality folder)')
            if not self.pid_in_names:
                where += '; the <pid> folder gives the identity'
        else:
            where = (f'<data_root>/{{{splits}}}/{{{mods}}}/<name>  '
                     '(same file name in every modality folder)')
        rule = (f"names match r'{self.name_pattern}'" if self.has_ids else
                'any image name (no ids)')
        if self.name_format is not None:
            rule += f', e.g. {self.example_name()}'
        return f'  {where}; {rule}'

    def replace(self, **changes) -> 'DatasetLayout':
        """A copy with some fields changed (unknown fields are an error).

        ``split_folders`` is merged key by key (``dict(train='train_141')``
        keeps the query and gallery folders); every other field is replaced.
        """
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f'{self.dataset_name}: unknown layout argument(s) '
                            f'{unknown}; layout arguments: {sorted(known)}')
        if 'split_folders' in changes:
            changes['split_folders'] = {**self.split_folders,
                                        **changes['split_folders']}
        return dataclasses.replace(self, **changes)

    @classmethod
    def field_names(cls) -> Tuple[str, ...]:
        """Names of the layout fields (the layout constructor arguments)."""
        return tuple(f.name for f in dataclasses.fields(cls))


def list_image_names(folder: str, owner: str) -> List[str]:
    """Sorted image file names (not paths) directly inside ``folder``.

    Args:
        folder (str): The folder.
        owner (str): Who reads it (a dataset name), for the message.

    Raises:
        FileNotFoundError: Some entries are symbolic links that lead
            nowhere (dangling or looping); they are listed, not skipped.
    """
    names = sorted(n for n in os.listdir(folder) if is_image_name(n))
    broken = [
        osp.join(folder, n) for n in names
        if not osp.exists(osp.join(folder, n))
    ]
    if broken:
        raise FileNotFoundError(
            f'{owner}: {len(broken)} image file(s) are symbolic links that '
            f'lead nowhere (dangling or looping): {format_listing(broken)}. '
            'Repair or remove '
            'them; no sample is skipped silently.')
    return [n for n in names if osp.isfile(osp.join(folder, n))]


def is_image_name(name: str) -> bool:
    """Whether ``name`` is an image file the datasets read (not hidden)."""
    return (not name.startswith('.')
            and name.lower().endswith(IMG_EXTENSIONS))
