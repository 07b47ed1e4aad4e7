# Copyright (c) mmieee contributors.
"""The feature set of a gallery (or of a query set), from one of three
sources, with the on-disk cache of :mod:`.feature_cache`:

* a **dataset config** (``dict(type='RGBNT201', data_root=..., split=
  'test')``): built with the model's test pipeline and modalities; its
  ``is_gallery`` rows (``is_query`` for queries) are used;
* a **folder**: either ``<folder>/<modality folder>/<name>`` (see
  :mod:`.sample_inputs`), or the root of a dataset of the model config's
  test dataset type (e.g. ``data/RGBNT201`` for an RGBNT201 config: its test
  split, any layout that dataset class reads, RGBNT100 and MSVR310
  included);
* a **feature file**: the ``tools/test.py --dump`` pickle (its
  ``is_gallery`` rows) or an ``.npz`` written by :func:`save_features`.
  The pickle is read with an unpickler that only builds numpy arrays and
  plain containers, so a foreign file cannot run code.
"""
import copy
import os.path as osp
import pickle
from dataclasses import dataclass
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmengine.logging import print_log
from torch.utils.data import DataLoader, Subset

from mmieee.registry import DATASETS

from .feature_cache import (ID_KEYS, cache_key, cache_path,
                            gallery_fingerprint, load_features, save_features)
from .inference import extract_features
from .sample_inputs import Sample, modality_dirs, parse_samples
from .sample_pipeline import config_test_pipeline

#: Feature-file suffixes.
FEATURE_FILE_SUFFIXES = ('.pkl', '.pickle', '.npz')


@dataclass
class FeatureSet:
    """Features of N samples and what is known about them.

    Attributes:
        feats (np.ndarray): (N, D) float32.
        img_paths (list, optional): N lists of M paths.
        pids, camids, sceneids (np.ndarray, optional): (N,) int64.
        source (str): Where it came from, for messages.
        from_cache (bool): Read from the feature cache.
    """
    feats: np.ndarray
    img_paths: Optional[List[List[str]]] = None
    pids: Optional[np.ndarray] = None
    camids: Optional[np.ndarray] = None
    sceneids: Optional[np.ndarray] = None
    source: str = ''
    from_cache: bool = False

    def __len__(self) -> int:
        return len(self.feats)

    def ids(self) -> Dict[str, Optional[np.ndarray]]:
        return {k: getattr(self, k) for k in ID_KEYS}


class _ArrayUnpickler(pickle.Unpickler):
    """Builds only numpy arrays, dtypes and scalars besides plain Python
    containers (why hand-written: ``pickle`` has no allow-list option and
    ``torch.load(weights_only=True)`` reads torch's format, not a plain
    pickle)."""

    ALLOWED = {('numpy', 'ndarray'), ('numpy', 'dtype'),
               ('numpy.core.multiarray', '_reconstruct'),
               ('numpy._core.multiarray', '_reconstruct'),
               ('numpy.core.multiarray', 'scalar'),
               ('numpy._core.multiarray', 'scalar'),
               # protocol-2 pickles (mmengine.dump) spell bytes this way
               ('_codecs', 'encode')}

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED or (
                module == 'numpy.dtypes' and name.endswith('DType')):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'feature file holds a {module}.{name} object; only numpy '
            'arrays are read from feature files')


def load_feature_file(path: str, role: str = 'gallery') -> FeatureSet:
    """Read a ``tools/test.py --dump`` pickle or a :func:`save_features`
    ``.npz``; of a dump, the rows flagged ``is_gallery`` (``is_query`` for
    ``role='query'``) when the flags are present.

    Raises:
        ValueError: No ``feats`` array, or lengths that disagree.
    """
    if path.endswith('.npz'):
        data = load_features(path)
    else:
        with open(path, 'rb') as f:
            data = _ArrayUnpickler(f).load()
    if not isinstance(data, dict) or 'feats' not in data:
        raise ValueError(f'feature file {path!r} has no "feats" array '
                         '(expected a tools/test.py --dump file)')
    feats = np.asarray(data['feats'], dtype=np.float32)
    n = len(feats)
    flag = 'is_gallery' if role == 'gallery' else 'is_query'
    rows = np.asarray(data[flag], dtype=bool) if flag in data else \
        np.ones(n, dtype=bool)
    out = FeatureSet(feats=feats[rows], source=path)
    for key in ID_KEYS:
        if data.get(key) is not None:
            value = np.asarray(data[key], dtype=np.int64)
            if len(value) != n:
                raise ValueError(f'feature file {path!r}: {key} has '
                                 f'{len(value)} entries, feats has {n}')
            setattr(out, key, value[rows])
    if data.get('img_paths') is not None:
        paths = list(data['img_paths'])
        out.img_paths = [[p] if isinstance(p, str) else list(p)
                         for p, keep in zip(paths, rows) if keep]
    return out


def is_dataset_config(source: object) -> bool:
    """A dataset config is a dict with ``type`` (a named sample, also a
    mapping, has modality keys)."""
    return isinstance(source, dict) and 'type' in source


def _dataset(model: torch.nn.Module, cfg: dict) -> torch.utils.data.Dataset:
    """Build a dataset config with the model's test pipeline and
    modalities (a contradicting ``modalities`` is an error)."""
    cfg = copy.deepcopy(dict(cfg))
    cfg.setdefault('pipeline', config_test_pipeline(model.cfg))
    have = cfg.setdefault('modalities', list(model.modalities))
    if tuple(have) != tuple(model.modalities):
        raise ValueError(
            f'dataset {cfg.get("type")} has modalities={tuple(have)}, but '
            f'the model takes {tuple(model.modalities)} in this order')
    return DATASETS.build(cfg)


def _dataset_root(model: torch.nn.Module, folder: str) -> dict:
    """The model config's test dataset rooted at ``folder``."""
    loader = model.cfg.get('test_dataloader') or model.cfg.get(
        'val_dataloader')
    cfg = copy.deepcopy(dict(loader['dataset']))
    cfg.update(data_root=folder, split='test')
    return cfg


def _samples_or_dataset(model, source, role):
    """``(samples, None, None)`` or ``(None, dataset, row indices)``."""
    if is_dataset_config(source):
        dataset = _dataset(model, source)
    elif isinstance(source, str) and osp.isdir(source) and modality_dirs(
            source, model.modalities) is None:
        try:
            dataset = _dataset(model, _dataset_root(model, source))
        except (FileNotFoundError, ValueError) as err:
            raise ValueError(
                f'{role} folder {source!r} is neither '
                f'<folder>/{{{",".join(model.modalities)}}}/<name> nor a '
                f'dataset root of the config\'s test dataset: {err}') from err
    else:
        return parse_samples(source, model.modalities, role), None, None
    flag = 'is_gallery' if role == 'gallery' else 'is_query'
    rows = [
        i for i in range(len(dataset))
        if dataset.get_data_info(i).get(flag, True)
    ]
    if not rows:
        raise ValueError(f'{role} dataset {dataset!r} has no sample with '
                         f'{flag}=True')
    return None, dataset, rows


def _paths(info: dict) -> List[str]:
    paths = info['img_path']
    return [paths] if isinstance(paths, str) else list(paths)


def build_feature_set(model: torch.nn.Module,
                      source: Union[str, dict, list],
                      checkpoint: Optional[str] = None,
                      cache_dir: Optional[str] = None,
                      batch_size: int = 32,
                      progress: Optional[bool] = None,
                      role: str = 'gallery') -> FeatureSet:
    """Features of a gallery (or query set) from any source of the module
    docstring, through the cache when ``checkpoint`` and ``cache_dir`` are
    given and every sample is a file.

    Args:
        model (nn.Module): From :func:`~mmieee.apis.init_model`.
        source (str | dict | list): Folder, dataset config, feature file, or
            samples (see :func:`~.sample_inputs.parse_samples`).
        checkpoint (str, optional): The model's weights file (cache key);
            None (random weights) disables the cache.
        cache_dir (str, optional): Cache folder; None disables the cache.
        batch_size (int): Extraction batch size. Defaults to 32.
        progress (bool, optional): Extraction progress bar (see
            :func:`~mmieee.apis.extract_features`).
        role (str): ``'gallery'`` or ``'query'``.

    Returns:
        FeatureSet: Features and what is known of each sample.
    """
    if isinstance(source, str) and source.endswith(FEATURE_FILE_SUFFIXES):
        if not osp.isfile(source):
            raise FileNotFoundError(f'{role} feature file {source!r} does '
                                    'not exist')
        return load_feature_file(source, role)
    samples, dataset, rows = _samples_or_dataset(model, source, role)
    if samples is not None:
        img_paths = [s.img_paths for s in samples]
        ids = _sample_ids(samples)
    else:
        infos = [dataset.get_data_info(i) for i in rows]
        img_paths = [_paths(info) for info in infos]
        ids = {
            key: np.asarray([info[key[:-1]] for info in infos],
                            dtype=np.int64)
            if all(key[:-1] in info for info in infos) else None
            for key in ID_KEYS
        }
    name = source if isinstance(source, str) else repr(source)[:200]
    path = key = None
    if checkpoint is not None and cache_dir is not None and all(
            p is not None for p in img_paths) and osp.isfile(checkpoint):
        key = cache_key(
            checkpoint, gallery_fingerprint(img_paths, ids),
            dict(model=model.cfg.model.to_dict(),
                 pipeline=config_test_pipeline(model.cfg)))
        path = cache_path(cache_dir, key)
        cached = load_features(path, key)
        if cached is not None:
            print_log(f'{role} features of {name} read from the cache '
                      f'{path}', logger='current')
            return FeatureSet(
                feats=cached['feats'], img_paths=cached['img_paths'],
                source=name, from_cache=True,
                **{k: cached.get(k) for k in ID_KEYS})
    if samples is not None:
        out = extract_features(model, [s.images for s in samples],
                               batch_size=batch_size, progress=progress)
    else:
        loader = DataLoader(
            Subset(dataset, rows), batch_size=batch_size, shuffle=False,
            collate_fn=default_collate, num_workers=0)
        out = extract_features(model, loader, progress=progress)
    result = FeatureSet(feats=out['feats'], img_paths=img_paths,
                        source=name, **ids)
    if path is not None:
        save_features(path, key, result.feats, img_paths, ids)
        print_log(f'{role} features of {name} cached in {path}',
                  logger='current')
    return result


def _sample_ids(samples: List[Sample]) -> Dict[str, Optional[np.ndarray]]:
    """Ids of samples: an array when every sample has the id, else None
    (then the protocol's exclusion is not applied to them)."""
    out = {}
    for key in ID_KEYS:
        values = [getattr(s, key[:-1]) for s in samples]
        out[key] = None if any(v is None for v in values) else np.asarray(
            values, dtype=np.int64)
    return out
