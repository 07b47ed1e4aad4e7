# Copyright (c) mmieee contributors.
"""On-disk cache of gallery features, keyed by what determines them.

Key = sha256 of a JSON record of:

* the **weights in memory** (:func:`weights_sha256`: sha256 over the
  model's state dict, names, dtypes, shapes and bytes). Why the weights the
  model holds and not the checkpoint file: the features are computed from
  those weights, and the file can change after it was loaded (a training
  still writing to it, a copy over it): keyed by the file, features of the
  old weights were stored under the new file's hash and handed to later
  processes. Keyed by content, a checkpoint copied, renamed or published
  under a new name is still a hit, and other weights at the same path, with
  the same size and an old mtime (``cp -p``, ``rsync -t``, unpacking an
  archive), are a miss;
* the **gallery contents**: every sample's image paths with each file's size
  and modification time (ns), and the ids. Images are stat-ed, not hashed:
  a gallery may hold millions of files, and hashing them would read the
  whole gallery on every call, a good part of what extraction costs;
* the model and test-pipeline configs (input size, blanked modalities, ...).

Files are ``<cache_dir>/<key>.npz`` feature files
(:meth:`mmieee.evaluation.FeatureSet.save`, read with
``allow_pickle=False``, so a cache file cannot run code); the key record is
stored inside and compared on load.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from mmieee.evaluation import FeatureSet
from mmieee.evaluation.feature_set import ID_KEYS

#: Default cache folder.
DEFAULT_CACHE_DIR = osp.join('~', '.cache', 'mmieee', 'galleries')


def weights_sha256(model: torch.nn.Module) -> str:
    """sha256 of the weights a model holds (every state-dict entry's name,
    dtype, shape and bytes, in order)."""
    digest = hashlib.sha256()
    for name, value in model.state_dict().items():
        digest.update(f'{name}\0{value.dtype}\0{tuple(value.shape)}\n'
                      .encode())
        flat = value.detach().cpu().contiguous().reshape(-1)
        digest.update(flat.view(torch.uint8).numpy())
    return digest.hexdigest()


def gallery_fingerprint(img_paths: Sequence[Sequence[str]],
                        ids: Dict[str, Optional[np.ndarray]]) -> str:
    """sha256 over the samples' paths, file sizes, mtimes and ids."""
    digest = hashlib.sha256()
    for paths in img_paths:
        for path in paths:
            st = os.stat(path)
            digest.update(f'{osp.abspath(path)}\0{st.st_size}\0'
                          f'{st.st_mtime_ns}\n'.encode())
    for key in ID_KEYS:
        value = ids.get(key)
        digest.update(f'{key}:'.encode())
        if value is not None:
            digest.update(np.asarray(value, dtype=np.int64).tobytes())
    return digest.hexdigest()


def cache_key(weights: str, gallery: str, config: dict) -> dict:
    """The record the cache file is named after (module docstring).

    Args:
        weights (str): :func:`weights_sha256` of the model.
        gallery (str): :func:`gallery_fingerprint` of the gallery.
        config (dict): The model and test-pipeline configs.
    """
    return dict(
        weights_sha256=weights,
        gallery=gallery,
        config=json.dumps(config, sort_keys=True, default=str))


def cache_path(cache_dir: str, key: dict) -> str:
    """``<cache_dir>/<sha256 of the key record>.npz``."""
    name = hashlib.sha256(
        json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    return osp.join(osp.expanduser(cache_dir), f'{name}.npz')


def save_features(path: str, key: dict, features: FeatureSet) -> None:
    """Write a feature set with its key (atomically)."""
    features.save(path, meta=dict(key=key))


def load_features(path: str, key: dict) -> Optional[FeatureSet]:
    """The feature set cached at ``path``; None when the file is absent or
    holds another key."""
    if not osp.isfile(path):
        return None
    try:
        features, meta = FeatureSet.load_with_meta(path)
    except ValueError:  # not a feature file of this version: a miss
        return None
    if meta.get('key') != json.loads(json.dumps(key, sort_keys=True)):
        return None
    return features
