# Copyright (c) mmieee contributors.
"""Multi-modal samples given by a user: queries and galleries of the
inferencer, checked where they enter.

A sample is M images of one object, in the model's modality order. Accepted
forms (``modalities`` = the model's, e.g. ``('RGB', 'NI', 'TI')``):

* a sequence of M image paths or M (H, W, 3) uint8 RGB arrays;
* a mapping ``{modality: image}`` whose keys are the model's modalities in
  its order;
* a folder in the per-split layout of the mmieee datasets,
  ``<folder>/<modality folder>/<name>`` with the same ``<name>`` in every
  modality folder (``RGB``/``NI``/``TI`` as RGBNT201 and
  ``MultiModalFolderDataset``, or ``vis``/``ni``/``th`` as MSVR310): one
  sample per name. Such a folder is read as a dataset
  (:func:`folder_dataset_cfg`: a ``MultiModalFolderDataset`` config), so
  the datasets' own scanner and checks apply.

Checks, each an error naming the sample and the file or value: the number of
images, a missing file, and the modality order. The order of path samples is
checked whenever every image sits in a folder named after a modality (the
datasets' layouts), e.g. ``(TI/a.jpg, RGB/a.jpg, NI/a.jpg)`` for an
``('RGB', 'NI', 'TI')`` model is refused; paths in other folders cannot be
checked and are taken in the given order.

Identities: when a file name follows the naming rule of an mmieee dataset
(:data:`ID_RULES`, tried in that order; one rule must match every name of a
folder), ``pid`` / ``camid`` (/ ``sceneid``) are read from it by that
dataset's :class:`~mmieee.datasets.DatasetLayout`, so results show them and
the evaluation protocol's exclusion can be applied; otherwise they are
unknown (None).
"""
import os
import os.path as osp
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from mmieee.datasets import MSVR310, RGBNT201, Market1501MM
from mmieee.datasets.layout import list_image_names

Image = Union[str, Path, np.ndarray]

#: Dataset classes whose file-name rule may give a sample's ids, in the
#: order they are tried (RGBNT201's ``_cam`` before Market's ``_c``).
ID_RULES = (RGBNT201, MSVR310, Market1501MM)


def _folder_names() -> Dict[str, str]:
    """Upper-cased modality folder name → modality, from the datasets."""
    names = {}
    for cls in ID_RULES:
        for modality, folder in cls.LAYOUT.modality_folders.items():
            names[modality.upper()] = modality
            names[folder.upper()] = modality
    return names


#: Folder name (upper case) → the modality it holds.
MODALITY_FOLDER_NAMES = _folder_names()


@dataclass
class Sample:
    """One multi-modal sample.

    Attributes:
        images (list): M paths (str) or M arrays, in the model's order.
        pid (int, optional): Identity, when known.
        camid (int, optional): 0-based camera, when known.
        sceneid (int, optional): Scene (MSVR310 names), when known.
        name (str): Short name for messages and picture titles.
    """
    images: list
    pid: Optional[int] = None
    camid: Optional[int] = None
    sceneid: Optional[int] = None
    name: str = ''

    @property
    def img_paths(self) -> Optional[List[str]]:
        """The M paths, or None for array samples."""
        if all(isinstance(x, str) for x in self.images):
            return list(self.images)
        return None


def parse_ids(name: str) -> Optional[Tuple[type, dict]]:
    """Ids from a file name by the first dataset rule of :data:`ID_RULES`
    that matches it.

    Returns:
        tuple | None: ``(dataset class, dict(pid, camid[, sceneid]))``.
    """
    for cls in ID_RULES:
        ids = cls.LAYOUT.parse_ids(name)
        if ids is not None:
            return cls, ids
    return None


def _check_image(img: object, where: str) -> Union[str, np.ndarray]:
    if isinstance(img, (str, Path)):
        path = str(img)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{where}: image file {path!r} does not '
                                    'exist')
        return path
    if isinstance(img, np.ndarray):
        if img.dtype != np.uint8 or not (
                img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
            raise ValueError(
                f'{where}: an image array must be (H, W, 3) or (H, W) '
                f'uint8 RGB, got shape {img.shape} dtype {img.dtype}')
        return img
    raise TypeError(f'{where}: an image must be a path or a numpy array, '
                    f'got {type(img).__name__}')


def check_sample(images: Union[Sequence[Image], Mapping[str, Image]],
                 modalities: Sequence[str], index: int,
                 role: str = 'query') -> Sample:
    """Validate one sample given as M images or ``{modality: image}``.

    Args:
        images (Sequence | Mapping): The sample.
        modalities (Sequence[str]): The model's modalities, in order.
        index (int): Position of the sample, for messages.
        role (str): ``'query'`` or ``'gallery item'``, for messages.

    Returns:
        Sample: With ids when the first file name follows a dataset rule.

    Raises:
        ValueError: Wrong number of images, or modality names (mapping keys,
            or the folders the images sit in) in another order than the
            model's.
        FileNotFoundError: A path that is not a file.
    """
    modalities = tuple(modalities)
    where = f'{role} {index}'
    if isinstance(images, Mapping):
        keys = tuple(images)
        if keys != modalities:
            raise ValueError(
                f'{where} names the modalities {keys}, but the model takes '
                f'{modalities} in this order')
        images = [images[m] for m in modalities]
    images = list(images)
    if len(images) != len(modalities):
        raise ValueError(
            f'{where} has {len(images)} image(s), the model expects '
            f'{len(modalities)}, one per modality {modalities}')
    images = [
        _check_image(img, f'{where} ({m})')
        for img, m in zip(images, modalities)
    ]
    sample = Sample(images=images, name=f'{role}_{index}')
    paths = sample.img_paths
    if paths is None:
        return sample
    folders = [Path(p).parent.name for p in paths]
    found = [MODALITY_FOLDER_NAMES.get(f.upper()) for f in folders]
    if all(found) and tuple(found) != modalities:
        raise ValueError(
            f'{where}: the images come from the modality folders '
            f'{tuple(folders)} = {tuple(found)}, but the model takes '
            f'{modalities} in this order; give one image per modality in '
            'that order')
    sample.name = Path(paths[0]).stem
    parsed = parse_ids(Path(paths[0]).name)
    if parsed is not None:
        for key, value in parsed[1].items():
            setattr(sample, key, value)
    return sample


def modality_dirs(folder: str,
                  modalities: Sequence[str]) -> Optional[Dict[str, str]]:
    """The modality folders of a per-split folder, or None if it has none.

    Raises:
        FileNotFoundError: Some but not all of the model's modalities have a
            folder (the message names the missing ones).
    """
    subdirs = {}
    for entry in sorted(os.listdir(folder)):
        modality = MODALITY_FOLDER_NAMES.get(entry.upper())
        if modality is not None and osp.isdir(osp.join(folder, entry)):
            subdirs.setdefault(modality, osp.join(folder, entry))
    if not subdirs:
        return None
    missing = [m for m in modalities if m not in subdirs]
    if missing:
        raise FileNotFoundError(
            f'{folder!r} has the modality folders '
            f'{sorted(osp.basename(p) for p in subdirs.values())} but none '
            f'for {missing}; the model needs {tuple(modalities)}')
    return {m: subdirs[m] for m in modalities}


def folder_dataset_cfg(folder: str, modalities: Sequence[str]) -> dict:
    """The ``MultiModalFolderDataset`` config that reads a sample folder.

    Args:
        folder (str): ``<folder>/<modality folder>/<name>``.
        modalities (Sequence[str]): The model's modalities, in order.

    Returns:
        dict: A test split whose samples are all queries and gallery items,
        with the file-name rule of the first dataset of :data:`ID_RULES`
        that reads every name (ids known), else ``name_pattern=None`` (ids
        unknown).

    Raises:
        ValueError: ``folder`` has no modality folders.
        FileNotFoundError: A modality folder is missing (named).
    """
    dirs = modality_dirs(folder, modalities)
    if dirs is None:
        raise ValueError(
            f'{folder!r} has no modality folders: expected '
            f'{folder}/{{{",".join(modalities)}}}/<name> with the same '
            'file name in each')
    names = list_image_names(dirs[modalities[0]], folder)
    layout = next((cls.LAYOUT for cls in ID_RULES
                   if names and all(cls.LAYOUT.parse_ids(n) is not None
                                    for n in names)), None)
    return dict(
        type='MultiModalFolderDataset',
        data_root=folder,
        split='test',
        modalities=list(modalities),
        dataset_name=osp.basename(osp.normpath(folder)) or folder,
        modality_folders={m: osp.basename(dirs[m]) for m in modalities},
        split_folders=dict(query='', gallery=''),
        name_pattern=None if layout is None else layout.name_pattern,
        camid_base=0 if layout is None else layout.camid_base,
        junk_pids=())


def _is_image(x: object) -> bool:
    return isinstance(x, np.ndarray) or (isinstance(x, (str, Path))
                                         and not osp.isdir(str(x)))


def parse_samples(inputs: object, modalities: Sequence[str],
                  role: str = 'query') -> List[Sample]:
    """Turn user input into checked samples (forms: module docstring; a
    folder is read with :func:`folder_dataset_cfg`, not here).

    A sequence whose items are all images (paths that are not folders, or
    arrays) is one sample; any other sequence is a list of samples.

    Args:
        inputs: One sample or a sequence of samples.
        modalities (Sequence[str]): The model's modalities, in order.
        role (str): ``'query'`` or ``'gallery item'``, for messages.

    Returns:
        list[Sample]: In input order.
    """
    if isinstance(inputs, (str, Path)):
        path = str(inputs)
        if osp.isdir(path):
            raise ValueError(f'{role} {path!r} is a folder: read it as a '
                             'dataset (folder_dataset_cfg)')
        if len(modalities) == 1:
            return [check_sample([path], modalities, 0, role)]
        if not osp.exists(path):
            raise FileNotFoundError(f'{role} {path!r} does not exist')
        raise ValueError(
            f'{role} {path!r} is one file, but a sample of this model is '
            f'{len(modalities)} images {tuple(modalities)}: give them as a '
            'sequence or a folder of modality folders')
    if isinstance(inputs, Mapping):
        inputs = [inputs]
    elif isinstance(inputs, np.ndarray):
        inputs = [[inputs]]
    elif not isinstance(inputs, Sequence) or not inputs:
        raise TypeError(f'{role}s must be a folder, a sample or a non-empty '
                        f'sequence of samples, got {inputs!r}')
    elif all(_is_image(x) for x in inputs):
        return [check_sample(inputs, modalities, 0, role)]
    samples: List[Sample] = []
    for item in inputs:
        if isinstance(item, (str, Path)) and osp.isdir(str(item)):
            raise ValueError(
                f'{role} {len(samples)}: {str(item)!r} is a folder; give a '
                'folder on its own, not inside a list of samples')
        if _is_image(item):  # a lone image: one sample of one image
            samples.append(check_sample([item], modalities, len(samples),
                                        role))
        else:
            samples.append(check_sample(item, modalities, len(samples),
                                        role))
    return samples
