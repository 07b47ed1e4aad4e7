# Copyright (c) mmieee contributors.
"""A multi-modal Re-ID dataset for a user's own folder layout (DESIGN §3
data contract; issue 2 item 4)."""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from mmieee.registry import DATASETS

from .base_multimodal_dataset import BaseMultiModalReIDDataset, SplitFolder


@DATASETS.register_module()
class MultiModalFolderDataset(BaseMultiModalReIDDataset):
    """One folder per modality, identity and camera read from file names.

    Layout::

        <data_root>/<split folder>/<modality folder>/<name>

    with the same ``<name>`` in every modality folder of a split folder.
    ``split='train'`` reads ``split_folders['train']``; ``split='test'``
    reads ``split_folders['query']`` (``is_query``) then
    ``split_folders['gallery']`` (``is_gallery``). When both name the same
    folder it is read once and every sample is both query and gallery
    (RGBNT201-style protocol).

    Example (an RGB + thermal dataset)::

        dict(type='MultiModalFolderDataset', data_root='data/mine',
             modality_folders=dict(RGB='visible', TI='thermal'),
             name_pattern=r'(?P<pid>\\d+)_cam(?P<camid>\\d+)_.*\\.png',
             camid_base=1,
             split_folders=dict(train='train', query='test',
                                gallery='test'))

    Args:
        data_root (str): The dataset folder.
        split (str): ``'train'`` or ``'test'``.
        pipeline (list): Data pipeline.
        modalities (Sequence[str], optional): Subset / order of the
            modalities named in ``modality_folders``; ``None`` = all, in
            the order of ``modality_folders``.
        modality_folders (Mapping[str, str] | Sequence[str]): Modality name
            → folder name, or a sequence of names that are also the folder
            names. Defaults to ``('RGB', 'NI', 'TI')``.
        name_pattern (str): Regex matched against the whole file name
            (``re.fullmatch``, case-insensitive), with named groups ``pid``
            and ``camid`` and optionally ``sceneid``. Defaults to
            ``r'(?P<pid>-?\\d+)_c(?P<camid>\\d+).*'``.
        split_folders (Mapping[str, str], optional): Folder names for
            ``'train'``, ``'query'`` and ``'gallery'``. Defaults to
            ``dict(train='train', query='query', gallery='gallery')``.
        camid_base (int): Camera number of the first camera in file names,
            subtracted so ``camid`` is 0-based. Defaults to 0.
        junk_pids (Sequence[int]): pids whose samples are dropped.
            Defaults to ``(-1,)``.
        dataset_name (str): Name used in messages and metainfo.
        **kwargs: See :class:`BaseMultiModalReIDDataset`.
    """

    DATASET_NAME = 'MultiModalFolderDataset'

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 pipeline: Sequence = (),
                 modalities: Optional[Union[str, Sequence[str]]] = None,
                 modality_folders: Union[Mapping[str, str], Sequence[str]] = (
                     'RGB', 'NI', 'TI'),
                 name_pattern: str = r'(?P<pid>-?\d+)_c(?P<camid>\d+).*',
                 split_folders: Optional[Mapping[str, str]] = None,
                 camid_base: int = 0,
                 junk_pids: Sequence[int] = (-1, ),
                 dataset_name: str = 'MultiModalFolderDataset',
                 **kwargs) -> None:
        self.DATASET_NAME = dataset_name
        if isinstance(modality_folders, str):
            modality_folders = (modality_folders, )
        if isinstance(modality_folders, Mapping):
            folders = {str(k): str(v) for k, v in modality_folders.items()}
        else:
            folders = {str(m): str(m) for m in modality_folders}
        if not folders:
            raise ValueError(f'{dataset_name}: modality_folders is empty.')
        self.MODALITIES = tuple(folders)
        self.MODALITY_FOLDERS = folders
        self.NAME_PATTERN = name_pattern
        self.CAMID_BASE = int(camid_base)
        self.JUNK_PIDS = tuple(int(p) for p in junk_pids)
        names = dict(train='train', query='query', gallery='gallery')
        unknown = set(split_folders or {}) - set(names)
        if unknown:
            raise ValueError(
                f'{dataset_name}: split_folders has unknown key(s) '
                f'{sorted(unknown)}; allowed: {sorted(names)}.')
        names.update(split_folders or {})
        self._split_names = names
        self.LAYOUT = (
            f'  <data_root>/{{{names["train"]},{names["query"]},'
            f'{names["gallery"]}}}/{{{",".join(folders.values())}}}/<name> '
            f'(same file name in every modality folder; names match '
            f'{name_pattern!r})')
        self.SOURCE = 'from wherever you keep your own data'
        super().__init__(
            data_root, split=split, pipeline=pipeline, modalities=modalities,
            **kwargs)

    def _available_splits(self) -> Dict[str, List[SplitFolder]]:
        names = self._split_names
        if names['query'] == names['gallery']:
            test: List[Tuple[str, bool, bool]] = [(names['query'], True,
                                                   True)]
        else:
            test = [(names['query'], True, False),
                    (names['gallery'], False, True)]
        return {'train': [(names['train'], False, False)], 'test': test}
