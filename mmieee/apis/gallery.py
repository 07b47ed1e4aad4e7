# Copyright (c) mmieee contributors.
"""The feature set of a gallery (or of a query set), from any source, with
the on-disk cache of :mod:`.feature_cache`:

* a **dataset config** (``dict(type='RGBNT201', data_root=..., split=
  'test')``): built with the model's test pipeline and modalities; its
  ``is_gallery`` rows (``is_query`` for queries) are used;
* a **folder**: either ``<folder>/<modality folder>/<name>``, read as a
  ``MultiModalFolderDataset`` (:func:`~.sample_inputs.folder_dataset_cfg`),
  or the root of a dataset of the model config's test dataset type (e.g.
  ``data/RGBNT201`` for an RGBNT201 config: its test split, any layout that
  dataset class reads, RGBNT100 and MSVR310 included);
* a **feature file** (:meth:`mmieee.evaluation.FeatureSet.load`: the
  ``tools/test.py --dump`` file or a cached ``.npz``; neither can run code
  when read): its ``is_gallery`` (``is_query``) rows;
* **samples**: a list of M-image samples (:mod:`.sample_inputs`).
"""
import copy
import os.path as osp
from typing import List, Optional, Union

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmengine.logging import print_log
from torch.utils.data import DataLoader, Subset

from mmieee.evaluation import FeatureSet
from mmieee.evaluation.feature_set import FEATURE_FILE_SUFFIXES, ID_KEYS
from mmieee.registry import DATASETS
from mmieee.utils.test_settings import (get_test_dataset_cfg,
                                        get_test_pipeline_cfg)

from .feature_cache import (cache_key, cache_path, gallery_fingerprint,
                            load_features, save_features)
from .inference import extract_features, needs_camids
from .sample_inputs import (Sample, folder_dataset_cfg, modality_dirs,
                            parse_samples)

#: The flag of the rows each role uses.
ROLE_FLAGS = {'gallery': 'is_gallery', 'query': 'is_query'}


def is_dataset_config(source: object) -> bool:
    """A dataset config is a dict with ``type`` (a named sample, also a
    mapping, has modality keys)."""
    return isinstance(source, dict) and 'type' in source


def is_dataset_source(source: object, modalities) -> bool:
    """Whether ``source`` is read as a dataset: a dataset config or a
    folder (of modality folders, or a dataset root)."""
    return is_dataset_config(source) or (
        isinstance(source, str) and osp.isdir(source))


def _dataset(model: torch.nn.Module, cfg: dict) -> torch.utils.data.Dataset:
    """Build a dataset config with the model's test pipeline and
    modalities (a contradicting ``modalities`` is an error)."""
    cfg = copy.deepcopy(dict(cfg))
    cfg.setdefault('pipeline', get_test_pipeline_cfg(model.cfg))
    have = cfg.setdefault('modalities', list(model.modalities))
    if tuple(have) != tuple(model.modalities):
        raise ValueError(
            f'dataset {cfg.get("type")} has modalities={tuple(have)}, but '
            f'the model takes {tuple(model.modalities)} in this order')
    return DATASETS.build(cfg)


def dataset_of(model: torch.nn.Module, source: Union[str, dict],
               role: str) -> torch.utils.data.Dataset:
    """The dataset a dataset config or a folder stands for."""
    if is_dataset_config(source):
        return _dataset(model, source)
    if modality_dirs(source, model.modalities) is not None:
        return _dataset(model, folder_dataset_cfg(source, model.modalities))
    cfg = get_test_dataset_cfg(model.cfg)
    cfg.update(data_root=source, split='test')
    try:
        return _dataset(model, cfg)
    except (FileNotFoundError, ValueError) as err:
        raise ValueError(
            f'{role} folder {source!r} is neither '
            f'<folder>/{{{",".join(model.modalities)}}}/<name> nor a '
            f'dataset root of the config\'s test dataset: {err}') from err


def load_feature_file(path: str, role: str = 'gallery') -> FeatureSet:
    """The rows of a feature file flagged for ``role`` (all rows when the
    file has no flags)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{role} feature file {path!r} does not '
                                'exist')
    features = FeatureSet.load(path)
    return features.select(features.flag(ROLE_FLAGS[role]),
                           gallery_side=role == 'gallery')


def samples_feature_set(samples: List[Sample], feats: np.ndarray,
                        source: str) -> FeatureSet:
    """Features of user samples with the ids known for every sample."""
    ids = {}
    for key in ID_KEYS:
        values = [getattr(s, key[:-1]) for s in samples]
        ids[key] = None if any(v is None for v in values) else values
    paths = [s.img_paths for s in samples]
    return FeatureSet(
        feats=feats, source=source,
        img_paths=None if any(p is None for p in paths) else paths, **ids)


def describe_source(source: Union[str, dict, list]) -> str:
    """A short name of a gallery / query source for messages: the path, a
    dataset config's type and root, or how many samples and the first."""
    if isinstance(source, str):
        return source
    if is_dataset_config(source):
        root = source.get('data_root')
        return f'{source.get("type")} dataset' + (f' at {root}'
                                                  if root else '')
    if isinstance(source, (list, tuple)):
        first = source[0] if source else None
        if isinstance(first, (list, tuple)) and first and \
                isinstance(first[0], str):
            first = first[0]
        elif isinstance(first, dict):
            first = next(iter(first.values()), None)
        shown = f', the first {first}' if isinstance(first, str) else ''
        return f'{len(source)} samples{shown}'
    return type(source).__name__


def build_feature_set(model: torch.nn.Module,
                      source: Union[str, dict, list],
                      weights: Optional[str] = None,
                      cache_dir: Optional[str] = None,
                      batch_size: int = 32,
                      progress: Optional[bool] = None,
                      role: str = 'gallery',
                      default_camid: Optional[int] = None) -> FeatureSet:
    """Features of a gallery (or query set) from any source of the module
    docstring, through the cache when ``weights`` and ``cache_dir`` are
    given and every sample is a file.

    Args:
        model (nn.Module): From :func:`~mmieee.apis.init_model`.
        source (str | dict | list): Folder, dataset config, feature file, or
            samples (see :func:`~.sample_inputs.parse_samples`).
        weights (str, optional): :func:`~.feature_cache.weights_sha256` of
            the model (the cache key); None (random weights) disables the
            cache.
        cache_dir (str, optional): Cache folder; None disables the cache.
        batch_size (int): Extraction batch size. Defaults to 32.
        progress (bool, optional): Extraction progress bar (see
            :func:`~mmieee.apis.extract_features`).
        role (str): ``'gallery'`` or ``'query'``.
        default_camid (int, optional): The camera given to samples without
            one when the model embeds cameras (see
            :func:`~mmieee.apis.extract_features`); None: such a sample is
            an error naming ``camid``.

    Returns:
        FeatureSet: Features and what is known of each sample.
    """
    if isinstance(source, str) and source.endswith(FEATURE_FILE_SUFFIXES):
        return load_feature_file(source, role)
    name = describe_source(source)
    dataset = rows = samples = None
    if is_dataset_source(source, model.modalities):
        dataset = dataset_of(model, source, role)
        flag = ROLE_FLAGS[role]
        rows = [i for i in range(len(dataset))
                if dataset.get_data_info(i).get(flag, True)]
        if not rows:
            raise ValueError(f'{role} dataset {dataset!r} has no sample '
                             f'with {flag}=True')
        infos = [dataset.get_data_info(i) for i in rows]
        img_paths = [[str(p) for p in info['img_path']] for info in infos]
        ids = {
            key: np.asarray([info[key[:-1]] for info in infos], np.int64)
            if all(key[:-1] in info for info in infos) else None
            for key in ID_KEYS
        }
    else:
        samples = parse_samples(source, model.modalities, role)
        img_paths = [s.img_paths for s in samples]
        ids = {}
    path = key = None
    if weights is not None and cache_dir is not None and all(
            p is not None for p in img_paths):
        settings = dict(model=model.cfg.model.to_dict(),
                        pipeline=get_test_pipeline_cfg(model.cfg))
        if default_camid is not None and needs_camids(model):
            settings['default_camid'] = int(default_camid)
        key = cache_key(weights, gallery_fingerprint(img_paths, ids),
                        settings)
        path = cache_path(cache_dir, key)
        cached = load_features(path, key)
        if cached is not None:
            print_log(f'{role} features of {name} read from the cache '
                      f'{path}', logger='current')
            cached.source = name
            return cached
    if samples is not None:
        feats = extract_features(model, [s.images for s in samples],
                                 batch_size=batch_size, progress=progress,
                                 camids=[s.camid for s in samples],
                                 default_camid=default_camid)
        result = samples_feature_set(samples, feats.feats, name)
    else:
        loader = DataLoader(
            Subset(dataset, rows), batch_size=batch_size, shuffle=False,
            collate_fn=default_collate, num_workers=0)
        result = extract_features(model, loader, progress=progress,
                                  default_camid=default_camid)
        result.source = name
    if path is not None:
        save_features(path, key, result)
        print_log(f'{role} features of {name} cached in {path}',
                  logger='current')
    return result
