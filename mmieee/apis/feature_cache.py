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
  the file (measured 1.0 s for the 275 MB demo training checkpoint); the
  hash is kept per process for an unchanged path, size and mtime, so it is
  computed once per process;
* the **gallery contents**: every sample's image paths with each file's size
  and modification time (ns), and the ids. Images are stat-ed, not hashed:
  a gallery may hold millions of files, and hashing them would read the
  whole gallery on every call, a good part of what extraction costs;
* the model and test-pipeline configs (input size, blanked modalities, ...).

Files are ``<cache_dir>/<key>.npz`` written with ``allow_pickle=False`` and
read the same way, so a cache file cannot run code; the key record is
stored inside and compared on load.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np

#: Default cache folder.
DEFAULT_CACHE_DIR = osp.join('~', '.cache', 'mmieee', 'galleries')

#: Arrays a cached feature set may hold besides ``feats``.
ID_KEYS = ('pids', 'camids', 'sceneids')

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


def save_features(path: str, key: dict, feats: np.ndarray,
                  img_paths: Sequence[Sequence[str]],
                  ids: Dict[str, Optional[np.ndarray]]) -> None:
    """Write a feature set (atomically: temporary file, then rename)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    arrays = dict(
        feats=np.asarray(feats, dtype=np.float32),
        img_paths=np.asarray([list(p) for p in img_paths], dtype=np.str_),
        key=np.asarray(json.dumps(key, sort_keys=True)))
    for name in ID_KEYS:
        if ids.get(name) is not None:
            arrays[name] = np.asarray(ids[name], dtype=np.int64)
    tmp = f'{path}.{os.getpid()}.tmp.npz'
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_features(path: str, key: Optional[dict] = None) -> Optional[dict]:
    """Read a feature set written by :func:`save_features`.

    Args:
        path (str): The ``.npz`` file.
        key (dict, optional): When given, a file whose stored key differs
            is treated as absent.

    Returns:
        dict | None: ``feats``, ``img_paths`` (list of lists) and the ids
        present; None when the file is absent or has another key.
    """
    if not osp.isfile(path):
        return None
    with np.load(path, allow_pickle=False) as data:
        if key is not None and str(data['key']) != json.dumps(
                key, sort_keys=True):
            return None
        out = dict(feats=data['feats'],
                   img_paths=data['img_paths'].tolist())
        for name in ID_KEYS:
            if name in data.files:
                out[name] = data[name]
    return out
