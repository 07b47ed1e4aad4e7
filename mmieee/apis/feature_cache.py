# Copyright (c) mmieee contributors.
"""On-disk cache of gallery features, keyed by what determines them.

Key = sha256 of a JSON record of:

* the **checkpoint's content** (sha256 of the file). Why content and not
  path + size + mtime: the weights are what the features depend on, and a
  content hash stays right when a checkpoint is copied, renamed or
  published under a new name (still a hit) and when another checkpoint is
  written to the same path with the same size, or restored with its old
  mtime (``cp -p``, ``rsync -t``, unpacking an archive): a miss, where the
  stat triple would hand back stale features. It costs one extra read of
  the file (docs/inference.md gives the time); the hash is kept per process
  for an unchanged path, size and mtime, so it is computed once per process;
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

from mmieee.evaluation import FeatureSet
from mmieee.evaluation.feature_set import ID_KEYS

#: Default cache folder.
DEFAULT_CACHE_DIR = osp.join('~', '.cache', 'mmieee', 'galleries')

_SHA_MEMO: Dict[tuple, str] = {}


def file_sha256(path: str) -> str:
    """sha256 hex digest of a file, memoised per (path, size, mtime_ns)."""
    st = os.stat(path)
    memo = (osp.abspath(path), st.st_size, st.st_mtime_ns)
    if memo not in _SHA_MEMO:
        digest = hashlib.sha256()
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 22), b''):
                digest.update(block)
        _SHA_MEMO[memo] = digest.hexdigest()
    return _SHA_MEMO[memo]


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


def cache_key(checkpoint: str, gallery: str, config: dict) -> dict:
    """The record the cache file is named after (module docstring)."""
    return dict(
        checkpoint_sha256=file_sha256(checkpoint),
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
