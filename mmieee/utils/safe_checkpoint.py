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
backend) and reads them with :func:`load_checkpoint_bytes`, in two steps:

1. **The file is parsed, nothing is built** (:func:`pickle_globals`): every
   global its pickles name must be in mmieee's own fixed list,
   :func:`checkpoint_globals`: dense tensors and their storages, plain
   containers, numpy data arrays (:data:`.safe_pickle.NUMPY_GLOBALS`: no
   object arrays) and mmengine's ``HistoryBuffer``. torch's weights-only
   list is not used as it stands: it also admits tensor subclasses rebuilt
   through a function the file names, sparse, quantized and nested tensors,
   and whatever other libraries register at run time (``import
   torch.distributed.tensor`` adds ``DeviceMesh``, whose construction
   starts a process group, ``DTensor`` and its placements); those are
   refused by name (:data:`REFUSED`), with the reason.
2. **torch's restricted unpickler builds it** with exactly that list
   (torch's process-wide extra list is swapped out for the load), and the
   numpy arrays are checked before numpy reads their state.

What mmengine's checkpoints need besides tensors:

* ``HistoryBuffer`` objects and numpy arrays / scalars / dtypes;
* ``getattr``, which pickle (protocol 2, torch's default) uses to refer to
  ``HistoryBuffer.min`` / ``max`` / ``mean`` / ``current``. Instead of the
  built-in, the unpickler gets :func:`_history_buffer_getattr`, which returns
  those four functions and nothing else. The four functions are harmless to
  call with any arguments.
* ``HistoryBuffer.__setstate__`` writes into a class-level table of
  statistics methods; the buffer mmieee restores accepts only the very
  functions mmengine registers there (compared by identity), and the table
  is also compared, by identity, before and after loading.

A file that needs anything else is refused with
:class:`UnsafeCheckpointError` naming the file and what it asked for; a file
that is not a PyTorch checkpoint at all (an image, a pickled list) gets
:class:`NotACheckpointError`. ``MMIEEE_TRUST_CHECKPOINTS=1`` is the only way
to the full pickle loader, for files whose source you trust.

Downloads go to ``torch.hub.get_dir()/checkpoints`` (where torch and mmengine
cache them, so a file put there by hand is used offline) and are checked
against the hash prefix in their name when there is one
(:func:`cached_download_path`): a name with such a prefix
(``resnet50-0676ba61.pth``) names its content, so one cache file serves
every URL of that name; any other name is cached per URL
(``checkpoints/by-url/<sha256 of the URL>/<name>``), so two URLs that end
with the same ``epoch_8.pth`` are two files.
"""
import _compat_pickle
import codecs
import collections
import contextlib
import functools
import hashlib
import io
import os
import os.path as osp
import pickle
import pickletools
import re
import tempfile
import threading
import zipfile
from typing import BinaryIO, Callable, Dict, Iterator, List, Optional, Union
from urllib.parse import urlparse

import numpy as np
import torch

from .errors import (CheckpointDownloadError, NotACheckpointError,
                     UnsafeCheckpointError)
from .safe_pickle import NUMPY_GLOBALS, _CheckedArray, release_arrays

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

    # the file's HistoryBuffer is the checked subclass (see below)
    if isinstance(obj, type) and issubclass(obj, HistoryBuffer) and \
            name in HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    what = 'getattr' if obj is _history_buffer_getattr else repr(obj)[:80]
    raise pickle.UnpicklingError(
        f'it fetches the attribute {name!r} of {what}; mmengine '
        'checkpoints only fetch the statistics methods '
        f'{HISTORY_BUFFER_METHODS} of HistoryBuffer')


def _checked_history_buffer_class() -> type:
    """A HistoryBuffer whose restored state is checked first.

    mmengine's ``HistoryBuffer.__setstate__`` copies the file's
    ``statistics_methods`` into a table shared by every buffer of the
    process; here each of them must be the very function mmengine
    registers under that name, the histories must be data arrays, and the
    object becomes a plain ``HistoryBuffer`` afterwards.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    class CheckedHistoryBuffer(HistoryBuffer):

        def __setstate__(self, state) -> None:
            if not isinstance(state, dict) or set(state) - {
                    '_log_history', '_count_history', 'max_length',
                    'statistics_methods'
            }:
                raise pickle.UnpicklingError(
                    'it gives a HistoryBuffer a state other than the one '
                    'mmengine writes')
            methods = state.pop('statistics_methods', {})
            if not isinstance(methods, dict):
                raise pickle.UnpicklingError(
                    'it gives a HistoryBuffer statistics_methods that are '
                    'not a dict')
            for name, func in methods.items():
                if name not in HISTORY_BUFFER_METHODS or \
                        func is not getattr(HistoryBuffer, name):
                    raise pickle.UnpicklingError(
                        'it replaces the statistics methods of mmengine\'s '
                        f'HistoryBuffer ({name!r}), which an mmengine '
                        'checkpoint never does')
            for key in ('_log_history', '_count_history'):
                if key in state and not isinstance(state[key], np.ndarray):
                    raise pickle.UnpicklingError(
                        f'it gives a HistoryBuffer a {key} of type '
                        f'{type(state[key]).__name__}')
            self._set_default_statistics()
            self.__dict__.update(state)
            self.__class__ = HistoryBuffer

    CheckedHistoryBuffer.__module__ = HistoryBuffer.__module__
    return CheckedHistoryBuffer


def _tensor_globals() -> Dict[str, object]:
    """What dense tensors and mmengine's containers need from torch's
    default allow-list (torch also allows more: see :data:`REFUSED`)."""
    out = {
        'collections.OrderedDict': collections.OrderedDict,
        'collections.Counter': collections.Counter,
        'builtins.set': set,
        'builtins.complex': complex,
        'builtins.bytearray': bytearray,
        '_codecs.encode': codecs.encode,
        'torch.Size': torch.Size,
        'torch.device': torch.device,
        'torch.Tensor': torch.Tensor,
        'torch._utils._rebuild_tensor': torch._utils._rebuild_tensor,
        'torch._utils._rebuild_tensor_v2': torch._utils._rebuild_tensor_v2,
        'torch._utils._rebuild_tensor_v3': torch._utils._rebuild_tensor_v3,
        'torch._utils._rebuild_parameter': torch._utils._rebuild_parameter,
    }
    for name in dir(torch):
        value = getattr(torch, name, None)
        if isinstance(value, torch.dtype) and 'qint' not in str(value):
            out[str(value)] = value  # 'torch.float32', ...
        elif name.endswith('Storage') and name not in (
                'Storage', 'TypedStorage', 'UntypedStorage') and \
                not name.startswith(('Q', '_')) and isinstance(value, type):
            out[f'torch.{name}'] = value  # FloatStorage, ...
    return out


@functools.lru_cache(maxsize=None)
def checkpoint_globals() -> Dict[str, object]:
    """Every global a checkpoint may name, and what the unpickler gets for
    it: dense tensors, plain containers, numpy data arrays
    (:data:`~.safe_pickle.NUMPY_GLOBALS`) and mmengine's ``HistoryBuffer``
    (checked) with the ``getattr`` stand-in."""
    out = _tensor_globals()
    out.update(NUMPY_GLOBALS)
    out['mmengine.logging.history_buffer.HistoryBuffer'] = \
        _checked_history_buffer_class()
    out['builtins.getattr'] = _history_buffer_getattr
    return out


#: Globals torch's own weights-only list allows (some only after
#: ``import torch.distributed.tensor``) that mmieee refuses, by prefix, and
#: why. Anything else outside :func:`checkpoint_globals` is refused too.
REFUSED: Dict[str, str] = {
    'torch.distributed.': 'it builds torch.distributed objects (building a '
    'DeviceMesh starts a process group; DTensors and their placements need '
    'one); an mmieee checkpoint holds plain tensors',
    'torch._utils._rebuild_sparse_tensor': 'it holds a sparse tensor; '
    'mmieee models have dense weights only (save tensor.to_dense())',
    'torch.serialization._get_layout': 'it holds a tensor of a non-dense '
    'layout (sparse); mmieee models have dense weights only',
    'torch.sparse.': 'it holds a sparse tensor; mmieee models have dense '
    'weights only',
    'torch._tensor._rebuild_from_type_v2': 'it rebuilds a tensor subclass '
    '(or a tensor with Python attributes) through a function the file '
    'names; mmieee checkpoints hold plain tensors',
    'torch._utils._rebuild_wrapper_subclass': 'it rebuilds a tensor '
    'subclass (e.g. a DTensor); mmieee checkpoints hold plain tensors',
    'torch._utils._rebuild_qtensor': 'it holds a quantized tensor; mmieee '
    'models have float weights',
    'torch._utils._rebuild_nested_tensor': 'it holds a nested tensor',
    'torch.nested.': 'it holds a nested tensor',
    'torch._utils._rebuild_meta_tensor_no_storage': 'it holds a meta tensor '
    '(a shape without data)',
    'torch._utils._rebuild_device_tensor_from_': 'it holds a tensor of a '
    'device without storage (e.g. XLA)',
    'torch._utils._rebuild_parameter_with_state': 'it sets Python '
    'attributes on a parameter',
}

#: Pickle opcodes that name a global (GLOBAL / INST carry it as text).
_NAMING_OPCODES = ('GLOBAL', 'INST')
#: Pickle opcodes that name a global torch's loader does not read at all.
_UNREAD_OPCODES = ('STACK_GLOBAL', 'OBJ', 'EXT1', 'EXT2', 'EXT4')
#: Pickles at the start of a legacy (non-zip) torch.save file: magic
#: number, protocol, system info, the object, its storage keys.
_LEGACY_PICKLES = 5


def _canonical(module: str, name: str) -> str:
    """``module.name`` as torch's loader maps protocol-2 names (Python 2
    module names such as ``__builtin__``)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    return f'{module}.{name}'


def _scan_pickle(stream: BinaryIO, found: Dict[str, None]) -> None:
    for op, arg, _ in pickletools.genops(stream):
        if op.name in _NAMING_OPCODES:
            found[_canonical(*arg.split(' ', 1))] = None
        elif op.name in _UNREAD_OPCODES:
            found[f'<pickle opcode {op.name}>'] = None


def pickle_globals(f: Union[str, io.BytesIO]) -> List[str]:
    """Every global the pickles of a torch.save file name, in order.

    The file is parsed, nothing is built: for torch's zip format every
    ``.pkl`` member (duplicated names included), for the legacy format the
    pickles torch reads before the raw storage bytes.

    Args:
        f (str | BytesIO): Path or in-memory file.

    Returns:
        list[str]: ``module.name`` of each global (protocol-2 names mapped
        as torch's loader maps them), and ``<pickle opcode X>`` for
        opcodes that name globals indirectly.

    Raises:
        ValueError: The pickles cannot be parsed.
    """
    found: Dict[str, None] = {}
    is_zip = zipfile.is_zipfile(f)
    if isinstance(f, io.BytesIO):
        f.seek(0)
    if is_zip:
        with zipfile.ZipFile(f) as archive:
            for info in archive.infolist():
                if info.filename.endswith('.pkl'):
                    with archive.open(info) as member:
                        _scan_pickle(io.BytesIO(member.read()), found)
    else:
        with (open(f, 'rb') if isinstance(f, str) else
              contextlib.nullcontext(f)) as stream:
            for _ in range(_LEGACY_PICKLES):
                _scan_pickle(stream, found)
    if isinstance(f, io.BytesIO):
        f.seek(0)
    return list(found)


def refusal_reason(name: str) -> Optional[str]:
    """Why a checkpoint naming the global ``name`` is refused (None: it is
    allowed)."""
    if name in checkpoint_globals():
        return None
    for prefix, reason in REFUSED.items():
        if name.startswith(prefix):
            return f'{reason} ({name})'
    return (
        f'it names {name}, which mmieee\'s checkpoint reader does not build '
        '(it builds tensors, plain containers, numpy data arrays and '
        'mmengine\'s HistoryBuffer only)')


def _check_globals(f, name: str) -> None:
    """Refuse ``f`` before anything is built if it names a global outside
    :func:`checkpoint_globals`."""
    try:
        names = pickle_globals(f)
    except (ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError,
            KeyError, OSError) as err:
        raise NotACheckpointError(
            f'{name} is not a readable PyTorch checkpoint: its pickle '
            f'cannot be parsed ({type(err).__name__}: {err})') from err
    refused = [(g, refusal_reason(g)) for g in names]
    refused = [(g, r) for g, r in refused if r is not None]
    if not refused:
        return
    glob, reason = refused[0]
    plain = set(_tensor_globals())
    named = [g for g in names if g not in plain]
    trust = '' if any(glob.startswith(p) for p in REFUSED) else (
        f' Only if you trust where this file comes from, set '
        f'{TRUST_ENV}=1 to load it with the full pickle loader.')
    raise UnsafeCheckpointError(
        f'Refusing to load checkpoint {name}: {reason}. Besides tensors and '
        f'containers it names {", ".join(named[:8])}. mmieee loads '
        'checkpoints without running code from them and allows only the '
        f'types mmengine writes (see {_README}).{trust}')


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
        _check_globals(f, name)
        obj = _restricted_load(f, name, map_location)
    if not isinstance(obj, dict):
        raise NotACheckpointError(
            f'{name} holds a {type(obj).__name__}, not a checkpoint (a dict '
            "with 'state_dict', or a state dict of tensors).")
    return obj


#: torch's extra allow-list is process-wide: one restricted load at a time.
_LOAD_LOCK = threading.Lock()


@contextlib.contextmanager
def _only_mmieee_globals() -> Iterator[None]:
    """torch's user allow-list (which ``import torch.distributed.tensor``
    and other libraries extend) replaced by :func:`checkpoint_globals` for
    the duration of one load."""
    with _LOAD_LOCK:
        saved = torch.serialization.get_safe_globals()
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals([
            (obj, name) for name, obj in checkpoint_globals().items()
        ] + [_CheckedArray])
        try:
            yield
        finally:
            torch.serialization.clear_safe_globals()
            torch.serialization.add_safe_globals(saved)


def _restricted_load(f, name: str, map_location) -> object:
    from mmengine.logging.history_buffer import HistoryBuffer
    HistoryBuffer()  # registers the four default methods in the table
    table = HistoryBuffer._statistics_methods
    before = dict(table)
    try:
        with _only_mmieee_globals():
            obj = torch.load(f, map_location=map_location, weights_only=True)
        obj = release_arrays(obj)
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
            f'types mmengine writes (see {_README}).') from err
    except (RuntimeError, ValueError, TypeError, EOFError) as err:
        # e.g. "Invalid magic number", a storage of the wrong size
        raise NotACheckpointError(
            f'{name} is not a readable PyTorch checkpoint: {err}') from err
    finally:
        changed = set(table) != set(before) or any(
            table[k] is not v for k, v in before.items())
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


#: Hex digits of a file name's hash prefix that make it name its content.
MIN_HASH_PREFIX = 8


def cached_download_path(url: str, model_dir: str) -> str:
    """Where the download of ``url`` is cached (module docstring).

    Args:
        url (str): ``http(s)://`` address.
        model_dir (str): The cache folder.

    Returns:
        str: ``model_dir/<name>`` for a name with a hash prefix of at least
        :data:`MIN_HASH_PREFIX` hex digits, else
        ``model_dir/by-url/<first 16 hex digits of sha256(url)>/<name>``.
    """
    name = osp.basename(urlparse(url).path) or 'checkpoint.pth'
    match = torch.hub.HASH_REGEX.search(name)
    if match and len(match.group(1)) >= MIN_HASH_PREFIX:
        return osp.join(model_dir, name)
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return osp.join(model_dir, 'by-url', digest, name)


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
    cached = cached_download_path(url, model_dir)
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(cached):
        os.makedirs(osp.dirname(cached), exist_ok=True)
        match = torch.hub.HASH_REGEX.search(osp.basename(cached))
        try:
            torch.hub.download_url_to_file(
                url, cached,
                hash_prefix=match.group(1) if match and match.group(1)
                else None,
                progress=os.isatty(2))
        except Exception as err:  # URLError, HTTPError, hash mismatch, ...
            raise CheckpointDownloadError(
                f'Could not download the checkpoint {url}: on a machine '
                f'without internet, download it elsewhere and put it at '
                f'{cached} (see docs/train_test.md, "ImageNet '
                'initialisation"), or point the config at a local file. '
                f'({type(err).__name__}: {err})') from err
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
