# Copyright (c) mmieee contributors.
"""Checkpoint loading that cannot run code, for every scheme mmengine loads.

Why: a PyTorch checkpoint is a pickle, and unpickling can call any function
the file names. torch >= 2.6 loads with a restricted unpickler
(``weights_only=True``) that only builds tensors and a short allow-list of
types, but mmengine 0.10.7 (a) calls ``torch.load`` on local files without
saying which loader it wants, so its own checkpoints (which pickle a
``HistoryBuffer`` and numpy arrays in the message hub) fail to load, and
(b) loads ``http(s)://``, ``torchvision://``, ``open-mmlab://`` ... files with
``torch.hub``, i.e. with the *full* pickle: a downloaded file can run any
code.

What mmieee does (:func:`patch_mmengine_checkpoint_loader`, applied by
``import mmieee``): every scheme of mmengine's ``CheckpointLoader`` is
replaced by a loader of this module. Each one obtains the bytes the way
mmengine does (local file, download into torch's hub cache, a storage
backend) and unpickles them with :func:`load_checkpoint_bytes`: torch's
restricted unpickler plus exactly what mmengine writes:

* ``HistoryBuffer`` objects and numpy arrays / scalars / dtypes;
* ``getattr``, which pickle (protocol 2, torch's default) uses to refer to
  ``HistoryBuffer.min`` / ``max`` / ``mean`` / ``current``. Instead of the
  built-in, the unpickler gets :func:`_history_buffer_getattr`, which returns
  those four functions and nothing else. (The built-in would let a file fetch
  ``builtins.eval`` and have torch's own allow-listed
  ``_rebuild_from_type_v2(func, ...)`` call it.) The four functions are
  harmless to call with any arguments.
* ``HistoryBuffer.__setstate__`` writes into a class-level table of
  statistics methods; that table is compared before and after loading, and a
  file that changes it is refused (and the table restored).

A file that needs anything else is refused with
:class:`UnsafeCheckpointError` naming the file and what it asked for; a file
that is not a PyTorch checkpoint at all (an image, a pickled list) gets
:class:`NotACheckpointError`. ``MMIEEE_TRUST_CHECKPOINTS=1`` is the only way
to the full pickle loader, for files whose source you trust.

Downloads go to ``torch.hub.get_dir()/checkpoints`` (where torch and mmengine
cache them, so a file put there by hand is used offline) and are checked
against the hash prefix in their name when there is one.
"""
import io
import os
import os.path as osp
import pickle
import re
import tempfile
from typing import Callable, Dict, Optional, Union
from urllib.parse import urlparse

import numpy as np
import torch

from .errors import (CheckpointDownloadError, NotACheckpointError,
                     UnsafeCheckpointError)

TRUST_ENV = 'MMIEEE_TRUST_CHECKPOINTS'

#: The statistics methods mmengine's HistoryBuffer pickles by name.
HISTORY_BUFFER_METHODS = ('min', 'max', 'mean', 'current')

#: First bytes of the two formats torch.save writes: a zip archive, or
#: (legacy, ``_use_new_zipfile_serialization=False``) a protocol-2 pickle.
_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_MAGIC = b'\x80\x02'

_README = 'docs/checkpoints.md'


def _trusted() -> bool:
    return os.environ.get(TRUST_ENV, '0') == '1'


def _history_buffer_getattr(obj, name):
    """Stand-in for ``builtins.getattr`` while unpickling a checkpoint.

    Returns ``HistoryBuffer.<name>`` for the four statistics methods that
    mmengine pickles; refuses everything else.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and name in HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    what = 'getattr' if obj is _history_buffer_getattr else repr(obj)[:80]
    raise pickle.UnpicklingError(
        f'it fetches the attribute {name!r} of {what}; mmengine '
        'checkpoints only fetch the statistics methods '
        f'{HISTORY_BUFFER_METHODS} of HistoryBuffer')


def _safe_globals() -> list:
    """What mmieee allows on top of torch's weights-only allow-list."""
    from mmengine.logging.history_buffer import HistoryBuffer
    try:  # numpy >= 1.25 moved the reconstructor to numpy._core
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - old numpy
        from numpy.core.multiarray import _reconstruct, scalar
    safe = [
        HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray, np.dtype, _reconstruct, scalar
    ]
    # dtype classes (np.dtypes.Float64DType, ...) pickled with arrays
    safe += [getattr(np.dtypes, n) for n in dir(np.dtypes)
             if n.endswith('DType')]
    return safe


def _describe_start(head: bytes) -> str:
    kinds = {b'\xff\xd8\xff': 'a JPEG image', b'\x89PNG': 'a PNG image',
             b'GIF8': 'a GIF image', b'BM': 'a BMP image',
             b'{': 'JSON or text', b'<': 'HTML or XML'}
    for magic, kind in kinds.items():
        if head.startswith(magic):
            return f' (it looks like {kind})'
    return ''


def load_checkpoint_bytes(f: Union[str, io.BytesIO],
                          name: str,
                          map_location=None) -> dict:
    """Unpickle a checkpoint with the restricted loader described above.

    Args:
        f (str | BytesIO): A local path or an in-memory file.
        name (str): How to name the file in messages (path or URL).
        map_location: As for :func:`torch.load`.

    Returns:
        dict: The checkpoint (an mmengine checkpoint or a bare state dict).

    Raises:
        UnsafeCheckpointError: The file needs something outside the
            allow-list.
        NotACheckpointError: The file is not a PyTorch checkpoint, or holds
            something other than a dict.
    """
    if isinstance(f, str):
        with open(f, 'rb') as fh:
            head = fh.read(8)
    else:
        head = f.getvalue()[:8]
    if not head.startswith((_ZIP_MAGIC, _PICKLE_MAGIC)):
        raise NotACheckpointError(
            f'{name} is not a PyTorch checkpoint{_describe_start(head)}: '
            f'it starts with the bytes {head[:4].hex(" ")}, neither a zip '
            'archive nor a protocol-2 pickle (the two formats torch.save '
            'writes).')
    if _trusted():
        obj = torch.load(f, map_location=map_location, weights_only=False)
    else:
        obj = _restricted_load(f, name, map_location)
    if not isinstance(obj, dict):
        raise NotACheckpointError(
            f'{name} holds a {type(obj).__name__}, not a checkpoint (a dict '
            "with 'state_dict', or a state dict of tensors).")
    return obj


def _restricted_load(f, name: str, map_location) -> object:
    from mmengine.logging.history_buffer import HistoryBuffer
    HistoryBuffer()  # registers the four default methods in the table
    table = HistoryBuffer._statistics_methods
    before = dict(table)
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            obj = torch.load(f, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        # torch wraps the unpickler's reason in advice to load with
        # weights_only=False or to allow-list the global; keep the reason.
        reason = re.search(
            r'WeightsUnpickler error:\s*(.*?)\s*(?:\n\nCheck the doc|$)',
            str(err), re.S)
        reason = reason.group(1).strip() if reason else str(err)
        reason = reason.split('. Please use')[0].rstrip('.')
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {name}: {reason}. mmieee loads '
            'checkpoints without running code from them and allows only the '
            'types mmengine writes (see '
            f'{_README}). Only if you trust where this file comes from, set '
            f'{TRUST_ENV}=1 to load it with the full pickle loader.') from err
    except RuntimeError as err:  # e.g. "Invalid magic number"
        raise NotACheckpointError(
            f'{name} is not a readable PyTorch checkpoint: {err}') from err
    finally:
        changed = table != before
        if changed:
            table.clear()
            table.update(before)
    if changed:
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {name}: it replaces the statistics '
            'methods of mmengine\'s HistoryBuffer, which an mmengine '
            'checkpoint never does.')
    return obj


def load_from_local(filename: str, map_location=None) -> dict:
    """Load a local checkpoint (mmengine's ``''`` scheme).

    Args:
        filename (str): Path of the checkpoint.
        map_location: As for :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: If ``filename`` is not a file.
        UnsafeCheckpointError, NotACheckpointError: See
            :func:`load_checkpoint_bytes`.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_bytes(filename, filename, map_location)


def download_checkpoint(url: str, model_dir: Optional[str] = None) -> str:
    """Download ``url`` into torch's hub cache once; return the local path.

    In a distributed run, rank 0 downloads and the others wait for it.

    Args:
        url (str): ``http(s)://`` address.
        model_dir (str, optional): Cache folder; default
            ``torch.hub.get_dir()/checkpoints``.

    Returns:
        str: The cached file.

    Raises:
        CheckpointDownloadError: The download failed; the message names the
            URL and the file to put into the cache by hand.
    """
    from mmengine.dist import barrier, get_dist_info
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    cached = osp.join(model_dir, osp.basename(urlparse(url).path))
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(cached):
        os.makedirs(model_dir, exist_ok=True)
        match = torch.hub.HASH_REGEX.search(osp.basename(cached))
        try:
            torch.hub.download_url_to_file(
                url, cached, hash_prefix=match.group(1) if match else None,
                progress=os.isatty(2))
        except Exception as err:  # URLError, HTTPError, hash mismatch, ...
            raise CheckpointDownloadError(
                f'Could not download the checkpoint {url} '
                f'({type(err).__name__}: {err}). On a machine without '
                f'internet, download it elsewhere and put it at {cached} '
                '(see docs/train_test.md, "ImageNet initialisation"), or '
                'point the config at a local file.') from err
    if world_size > 1:
        barrier()
    return cached


def load_from_http(url: str, map_location=None,
                   model_dir: Optional[str] = None) -> dict:
    """Download (once) and load an ``http(s)://`` checkpoint safely."""
    path = download_checkpoint(url, model_dir)
    return load_checkpoint_bytes(path, f'{url} (cached at {path})',
                                 map_location)


def load_from_torchvision(filename: str, map_location=None) -> dict:
    """``torchvision://NAME`` / ``modelzoo://NAME``: torchvision's weights."""
    from mmengine.runner.checkpoint import get_torchvision_models
    name = filename.split('://', 1)[1]
    urls = get_torchvision_models()
    if name not in urls:
        raise KeyError(f'{filename}: torchvision has no model {name!r}')
    return load_from_http(urls[name], map_location)


def load_from_openmmlab(filename: str, map_location=None) -> dict:
    """``open-mmlab://NAME`` / ``openmmlab://NAME``: OpenMMLab's model zoo."""
    from mmengine.runner.checkpoint import (_get_mmengine_home,
                                            get_deprecated_model_names,
                                            get_external_models)
    name = filename.split('://', 1)[1]
    name = get_deprecated_model_names().get(name, name)
    urls = get_external_models()
    if name not in urls:
        raise KeyError(f'{filename}: OpenMMLab has no model {name!r}')
    url = urls[name]
    if url.startswith(('http://', 'https://')):
        return load_from_http(url, map_location)
    return load_from_local(
        osp.join(_get_mmengine_home(), url), map_location)


def load_from_mmcls(filename: str, map_location=None) -> dict:
    """``mmcls://NAME``: mmclassification's model zoo."""
    from mmengine.runner.checkpoint import (_process_mmcls_checkpoint,
                                            get_mmcls_models)
    name = filename.split('://', 1)[1]
    urls = get_mmcls_models()
    if name not in urls:
        raise KeyError(f'{filename}: mmcls has no model {name!r}')
    return _process_mmcls_checkpoint(
        load_from_http(urls[name], map_location))


def load_from_ceph(filename: str, map_location=None) -> dict:
    """``s3://`` / ``petrel://`` (optionally ``<prefix>:s3://``): read the
    bytes through mmengine's storage backend."""
    from mmengine.fileio import get_file_backend
    backend = get_file_backend(filename, backend_args={'backend': 'petrel'})
    return load_checkpoint_bytes(
        io.BytesIO(backend.get(filename)), filename, map_location)


def load_from_pavi(filename: str, map_location=None) -> dict:
    """``pavi://``: download from PAVI's model cloud into a temporary file."""
    try:
        from pavi import modelcloud
    except ImportError as err:
        raise ImportError(
            'Please install pavi to load checkpoint from modelcloud.') from err
    model = modelcloud.get(filename[len('pavi://'):])
    with tempfile.TemporaryDirectory() as tmp_dir:
        path = osp.join(tmp_dir, model.name)
        model.download(path)
        return load_checkpoint_bytes(path, filename, map_location)


#: mmengine 0.10.7's CheckpointLoader prefixes -> mmieee's loader (named as
#: mmengine's, ``load_from_<backend>``: its log line prints the suffix).
SCHEME_LOADERS: Dict[str, Callable] = {
    '': load_from_local,
    'http://': load_from_http,
    'https://': load_from_http,
    'modelzoo://': load_from_torchvision,
    'torchvision://': load_from_torchvision,
    'open-mmlab://': load_from_openmmlab,
    'openmmlab://': load_from_openmmlab,
    'mmcls://': load_from_mmcls,
    'pavi://': load_from_pavi,
    r'(\S+\:)?s3://': load_from_ceph,
    r'(\S+\:)?petrel://': load_from_ceph,
}


def patch_mmengine_checkpoint_loader() -> None:
    """Register :data:`SCHEME_LOADERS` with mmengine's CheckpointLoader.

    Raises:
        RuntimeError: mmengine knows a scheme that mmieee has no safe loader
            for (a newer mmengine): loading it would bypass the checks.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    unknown = set(CheckpointLoader._schemes) - set(SCHEME_LOADERS)
    if unknown:
        raise RuntimeError(
            f'mmengine registers checkpoint schemes {sorted(unknown)} that '
            'mmieee has no safe loader for; add them to '
            'mmieee.utils.safe_checkpoint.SCHEME_LOADERS.')
    for prefix, loader in SCHEME_LOADERS.items():
        CheckpointLoader.register_scheme(prefix, loader, force=True)
