# Copyright (c) mmieee contributors.
"""One sample record and one feature set: what every part of mmieee that
keeps test features keeps.

* :func:`sample_record`: a predicted data sample (``model(..., mode=
  'predict')``) as a flat record -- its feature, its ids, its query /
  gallery flags, its images and its dataset index. ``ReIDMetric``,
  ``DumpReIDFeatures`` and the visualisation hook keep exactly this.
* :class:`FeatureSet`: N such records stacked into arrays, one row per
  sample in dataset order. The ranking (:mod:`.ranking_protocol`), the rank
  lists and t-SNE, ``tools/test.py --dump``, the inferencer's gallery and
  its feature cache all work on it.
* :meth:`FeatureSet.save` / :meth:`FeatureSet.load`: the one feature file
  format, ``.npz`` (read with ``allow_pickle=False``) or ``.pkl`` (a pickle
  of plain arrays, read with :func:`mmieee.utils.safe_pickle.
  load_plain_pickle`): neither can run code when it is read.
"""
import json
import os
import os.path as osp
import pickle
from dataclasses import dataclass, fields, replace
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

from mmieee.utils.atomic_file import atomic_write
from mmieee.utils.output_paths import writing
from mmieee.utils.safe_pickle import load_plain_pickle

#: Data-sample metainfo key -> FeatureSet attribute and dtype, for the
#: per-sample values a record keeps besides its features.
META_FIELDS = (('pid', 'pids', np.int64), ('camid', 'camids', np.int64),
               ('sceneid', 'sceneids', np.int64),
               ('is_query', 'is_query', np.bool_),
               ('is_gallery', 'is_gallery', np.bool_),
               ('sample_idx', 'sample_idx', np.int64))
#: The id arrays (what the evaluation protocol compares).
ID_KEYS = ('pids', 'camids', 'sceneids')
#: Feature-file suffixes :meth:`FeatureSet.save` / ``load`` accept.
FEATURE_FILE_SUFFIXES = ('.npz', '.pkl', '.pickle')


def sample_record(sample: Union[BaseDataElement, Mapping]) -> dict:
    """A predicted data sample as the record mmieee keeps of it.

    Args:
        sample (DataSample | Mapping): With a 1-D ``pred_feature`` (and
            ``pred_gallery_feature`` under the cross-modal protocol) and
            the metainfo of :data:`META_FIELDS` and ``img_path``.

    Returns:
        dict: ``pred_feature`` (and ``pred_gallery_feature``) as 1-D float32
        CPU tensors, the present metainfo values as Python ints / bools and
        ``img_path`` as a list of str.

    Raises:
        KeyError: The sample has no ``pred_feature``.
    """
    if isinstance(sample, BaseDataElement):
        sample = sample.to_dict()
    if 'pred_feature' not in sample:
        raise KeyError('a data sample has no "pred_feature": the model must '
                       "run in 'predict' mode (model.test_step / "
                       "model(..., mode='predict'))")
    record = {
        key: torch.as_tensor(sample[key]).detach().reshape(-1).float().cpu()
        for key in ('pred_feature', 'pred_gallery_feature') if key in sample
    }
    for key, _, dtype in META_FIELDS:
        value = sample.get(key)
        if value is not None:
            value = value.item() if isinstance(value, torch.Tensor) else value
            record[key] = bool(value) if dtype is np.bool_ else int(value)
    if sample.get('img_path') is not None:
        paths = sample['img_path']
        record['img_path'] = [paths] if isinstance(paths, str) else [
            str(p) for p in paths
        ]
    return record


@dataclass(eq=False)
class FeatureSet:
    """Features of N samples and what is known about each.

    Attributes:
        feats (np.ndarray): (N, D) float32, the model's ``pred_feature``.
        gallery_feats (np.ndarray, optional): (N, D) float32, the
            ``pred_gallery_feature`` of the cross-modal protocol (then
            ``feats`` are the samples' query-side features).
        pids, camids, sceneids (np.ndarray, optional): (N,) int64.
        is_query, is_gallery (np.ndarray, optional): (N,) bool.
        sample_idx (np.ndarray, optional): (N,) int64, each row's index in
            its dataset.
        img_paths (list, optional): N lists of M image paths.
        source (str): Where the set comes from, for messages.
    """
    feats: np.ndarray
    gallery_feats: Optional[np.ndarray] = None
    pids: Optional[np.ndarray] = None
    camids: Optional[np.ndarray] = None
    sceneids: Optional[np.ndarray] = None
    is_query: Optional[np.ndarray] = None
    is_gallery: Optional[np.ndarray] = None
    sample_idx: Optional[np.ndarray] = None
    img_paths: Optional[List[List[str]]] = None
    source: str = ''

    def __post_init__(self) -> None:
        where = self.source or 'feature set'
        self.feats = np.asarray(self.feats, dtype=np.float32)
        if self.feats.ndim != 2:
            raise ValueError(f'{where}: "feats" must be (N, D), got shape '
                             f'{self.feats.shape}')
        num = len(self.feats)
        if self.gallery_feats is not None:
            self.gallery_feats = np.asarray(self.gallery_feats, np.float32)
            if self.gallery_feats.shape != self.feats.shape:
                raise ValueError(
                    f'{where}: "gallery_feats" has shape '
                    f'{self.gallery_feats.shape}, "feats" {self.feats.shape}')
        for _, name, dtype in META_FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            value = np.asarray(value)
            if value.shape != (num, ) or not (
                    np.issubdtype(value.dtype, np.integer)
                    or np.issubdtype(value.dtype, np.bool_)):
                raise ValueError(
                    f'{where}: "{name}" must be {num} integers (one per '
                    f'feature row), got shape {value.shape} of '
                    f'{value.dtype}')
            setattr(self, name, value.astype(dtype))
        if self.img_paths is not None:
            paths = [[p] if isinstance(p, str) else [str(x) for x in p]
                     for p in np.asarray(self.img_paths).tolist()] \
                if isinstance(self.img_paths, np.ndarray) else [
                    [p] if isinstance(p, str) else [str(x) for x in p]
                    for p in self.img_paths]
            if len(paths) != num:
                raise ValueError(f'{where}: "img_paths" has {len(paths)} '
                                 f'entries for {num} feature rows')
            self.img_paths = paths

    def __len__(self) -> int:
        return len(self.feats)

    # ------------------------------------------------------------------
    # From model outputs.
    # ------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Sequence[dict],
                     source: str = '') -> 'FeatureSet':
        """Stack :func:`sample_record` records (dataset order kept).

        A metainfo field is kept when every record has it.

        Raises:
            ValueError: No record, features of different sizes, or a
                ``pred_gallery_feature`` in only some records.
        """
        if not records:
            raise ValueError(f'{source or "FeatureSet"}: no samples')
        dims = {r['pred_feature'].numel() for r in records}
        if len(dims) != 1:
            raise ValueError(f'{source or "FeatureSet"}: features of '
                             f'different sizes {sorted(dims)}')
        two_sided = sum('pred_gallery_feature' in r for r in records)
        if two_sided not in (0, len(records)):
            raise ValueError(
                f'{source or "FeatureSet"}: {two_sided} of {len(records)} '
                'samples have a "pred_gallery_feature"; the query/gallery '
                'blanking of the model must be the same for every sample')
        values: Dict[str, object] = dict(
            feats=torch.stack([r['pred_feature'] for r in records]).numpy())
        if two_sided:
            values['gallery_feats'] = torch.stack(
                [r['pred_gallery_feature'] for r in records]).numpy()
        for key, name, dtype in META_FIELDS:
            if all(key in r for r in records):
                values[name] = np.asarray([r[key] for r in records], dtype)
        if all('img_path' in r for r in records):
            values['img_paths'] = [r['img_path'] for r in records]
        return cls(source=source, **values)

    @classmethod
    def from_samples(cls, samples: Sequence,
                     source: str = '') -> 'FeatureSet':
        """Stack predicted data samples (or their ``to_dict()``)."""
        return cls.from_records([sample_record(s) for s in samples], source)

    # ------------------------------------------------------------------
    # Views.
    # ------------------------------------------------------------------
    def select(self, rows: Union[np.ndarray, Sequence[int]],
               gallery_side: bool = False) -> 'FeatureSet':
        """The rows ``rows`` (indices or a boolean mask) as a new set.

        Args:
            rows: Row indices or an (N,) boolean mask.
            gallery_side (bool): Use ``gallery_feats`` (when present) as the
                features of the result (the gallery side of the cross-modal
                protocol).
        """
        rows = np.asarray(rows)
        if rows.dtype == np.bool_:
            rows = np.flatnonzero(rows)
        feats = self.gallery_feats if (
            gallery_side and self.gallery_feats is not None) else self.feats
        values = {
            f.name: None if getattr(self, f.name) is None else
            getattr(self, f.name)[rows]
            for f in fields(self)
            if f.name not in ('feats', 'gallery_feats', 'img_paths',
                              'source')
        }
        paths = None if self.img_paths is None else [
            self.img_paths[i] for i in rows.tolist()
        ]
        return replace(self, feats=feats[rows], gallery_feats=None,
                       img_paths=paths, **values)

    def flag(self, name: str) -> np.ndarray:
        """``is_query`` / ``is_gallery``, all True when the set has none."""
        value = getattr(self, name)
        return np.ones(len(self), np.bool_) if value is None else value

    def query_gallery(self) -> tuple:
        """``(queries, gallery)``: the rows flagged ``is_query`` and those
        flagged ``is_gallery`` (gallery-side features), each a FeatureSet.

        Raises:
            ValueError: Either side is empty (the message says how the
                flags are set).
        """
        is_query, is_gallery = self.flag('is_query'), self.flag('is_gallery')
        if not is_query.any() or not is_gallery.any():
            raise ValueError(
                f'{self.source or "the test set"}: {int(is_query.sum())} '
                f'query and {int(is_gallery.sum())} gallery samples; both '
                'must be non-empty. The dataset sets "is_query" / '
                '"is_gallery" per data_info (query folder -> is_query=True, '
                'gallery folder -> is_gallery=True; a sample used as both, '
                'RGBNT201-style, has both True)')
        return (self.select(is_query),
                self.select(is_gallery, gallery_side=True))

    def require(self, *names: str) -> None:
        """Raise ``KeyError`` naming the set when an attribute is None."""
        for name in names:
            if getattr(self, name) is None:
                present = [f.name for f in fields(self)
                           if f.name != 'source'
                           and getattr(self, f.name) is not None]
                raise KeyError(
                    f'{self.source or "the feature set"} has no {name!r} '
                    f'(it has {present}); write it with tools/test.py '
                    '--dump')

    # ------------------------------------------------------------------
    # Files.
    # ------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The arrays (and ``img_paths`` as lists), None fields left out."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != 'source' and getattr(self, f.name) is not None
        }

    def save(self, path: str, meta: Optional[dict] = None) -> str:
        """Write the set atomically (module docstring for the formats).

        Args:
            path (str): ``.npz``, ``.pkl`` or ``.pickle`` file; its folder is
                created.
            meta (dict, optional): JSON-serialisable metadata stored with it
                (e.g. a cache key), returned by :meth:`load_with_meta`.

        Returns:
            str: ``path``.
        """
        check_feature_file_suffix(path)
        data = self.to_dict()
        if meta is not None:
            data['meta'] = json.dumps(meta, sort_keys=True)
        if path.endswith('.npz'):
            if 'img_paths' in data:
                data['img_paths'] = np.asarray(data['img_paths'], np.str_)
            tmp = f'{path}.{os.getpid()}.partial.npz'
            try:
                with writing(path):
                    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
                    np.savez(tmp,
                             **{k: np.asarray(v) for k, v in data.items()})
                    os.replace(tmp, path)
            finally:
                if osp.exists(tmp):
                    os.remove(tmp)
        else:
            atomic_write(pickle.dumps(data, protocol=4), path)
        return path

    @classmethod
    def load(cls, path: str) -> 'FeatureSet':
        """Read a file written by :meth:`save` (or ``tools/test.py --dump``
        of an earlier version), without running code from it."""
        return cls.load_with_meta(path)[0]

    @classmethod
    def load_with_meta(cls, path: str) -> tuple:
        """``(FeatureSet, meta dict)`` of a feature file.

        Raises:
            FileNotFoundError: No such file.
            ValueError: Not a feature file (names the file and the key).
            UnsafeCheckpointError: A pickle that names anything but plain
                containers and numpy data arrays.
        """
        check_feature_file_suffix(path)
        if not osp.isfile(path):
            raise FileNotFoundError(f'feature file {path!r} does not exist')
        if path.endswith('.npz'):
            try:
                with np.load(path, allow_pickle=False) as npz:
                    data = {k: npz[k] for k in npz.files}
            except ValueError as err:  # object arrays need pickle
                raise ValueError(f'{path}: {err}') from err
            if 'img_paths' in data:
                data['img_paths'] = data['img_paths'].tolist()
        else:
            data = load_plain_pickle(path)
        if not isinstance(data, dict) or 'feats' not in data:
            kind = type(data).__name__
            keys = f' with keys {sorted(data)}' if isinstance(data,
                                                              dict) else ''
            raise ValueError(
                f'{path} is not a feature file of tools/test.py --dump (a '
                f'dict with "feats", "pids", ...); it holds a {kind}{keys}')
        meta = data.pop('meta', None)
        meta = json.loads(str(meta)) if meta is not None else {}
        known = {f.name for f in fields(cls)} - {'source'}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f'{path}: unknown feature-file keys {unknown}; '
                             f'known: {sorted(known)}')
        return cls(source=path, **data), meta


def check_feature_file_suffix(path: str) -> None:
    """Raise ``ValueError`` unless ``path`` ends with a feature-file suffix."""
    if not str(path).endswith(FEATURE_FILE_SUFFIXES):
        raise ValueError(f'feature file {path!r} must end with one of '
                         f'{FEATURE_FILE_SUFFIXES}')
