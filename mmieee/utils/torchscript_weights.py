# Copyright (c) mmieee contributors.
"""The tensors of a TorchScript archive, read without running any of it.

Why: OpenAI distributes its CLIP weights (``ViT-B-16.pt``, the file DeMo's
``modeling/clip/model.py`` loads with ``torch.jit.load``) as a TorchScript
archive. ``torch.jit.load`` compiles the archive's TorchScript code
(``code/``) into methods that run when the model is called, and rebuilds
its objects with TorchScript's C++ unpickler; mmieee's safe checkpoint
loader refuses the file (torch's restricted loader does not read TorchScript
archives). What a Re-ID model needs from it is its state dict, which is
plain data.

What :func:`read_torchscript_state_dict` does, and nothing else:

* opens the zip archive and unpickles ``<archive>/data.pkl`` with a
  restricted unpickler (:class:`_RestrictedUnpickler`) that resolves exactly
  these names: torch's ``_utils._rebuild_tensor_v2`` (after checking its
  arguments), the ``torch.<Type>Storage`` names as dtypes,
  ``collections.OrderedDict``, the five ``torch.jit._pickle`` functions
  that tag list types (each returns its argument), and every
  ``__torch__.*`` class (the
  archive's module classes) as an inert :class:`ScriptObjectState` that
  only records the attributes it is given. Anything else (``os.system``,
  ``builtins.eval``, any other class or function) stops the reading with
  :class:`~.errors.UnsafeCheckpointError` naming the file and the name,
  before it is used;
* rebuilds each tensor from the raw bytes of ``<archive>/data/<key>``;
* reads the ``code/`` files as text, only to find each class's
  ``__parameters__`` and ``__buffers__`` lists: the state dict holds
  parameters and buffers, as ``torch.jit.load(path).state_dict()`` does,
  not other tensor attributes. The code is never compiled or run.

The result has the keys, order, dtypes and values of
``torch.jit.load(path).state_dict()`` (checked by the tests on archives
written with ``torch.jit.save``).
"""
import collections
import io
import os
import pickle
import re
import warnings
import zipfile
from typing import Dict, List, Tuple

import torch
import torch.jit._pickle

from .errors import NotACheckpointError, UnsafeCheckpointError

#: ``torch.<name>`` storage classes of a TorchScript pickle → dtype.
STORAGE_DTYPES = {
    'DoubleStorage': torch.float64,
    'FloatStorage': torch.float32,
    'HalfStorage': torch.float16,
    'BFloat16Storage': torch.bfloat16,
    'LongStorage': torch.int64,
    'IntStorage': torch.int32,
    'ShortStorage': torch.int16,
    'CharStorage': torch.int8,
    'ByteStorage': torch.uint8,
    'BoolStorage': torch.bool,
    'ComplexFloatStorage': torch.complex64,
    'ComplexDoubleStorage': torch.complex128,
}

#: Functions of ``torch.jit._pickle`` that TorchScript pickles name to
#: restore the static type of lists; each returns its first argument.
_TYPE_TAGS = ('build_intlist', 'build_tensorlist', 'build_doublelist',
              'build_boollist', 'restore_type_tag')

_README = 'docs/checkpoints.md'


class ScriptObjectState:
    """Inert stand-in for an object of a TorchScript class (``__torch__.*``).

    It records the attributes the pickle gives it (``attributes``, in the
    archive's order) and has no other behaviour: no method of the archive's
    class exists on it.

    Attributes:
        qualname (str): The TorchScript class, e.g.
            ``'__torch__.torch.nn.modules.linear.Linear'``.
        attributes (OrderedDict): Attribute name → value.
    """

    qualname = '__torch__'

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj.attributes = collections.OrderedDict()
        return obj

    def __init__(self, *args, **kwargs) -> None:
        pass

    def __setstate__(self, state) -> None:
        if not isinstance(state, dict) or not all(
                isinstance(k, str) for k in state):
            raise pickle.UnpicklingError(
                f'the state of {self.qualname} is a {type(state).__name__}, '
                'not the attribute dict of a TorchScript module')
        self.attributes = collections.OrderedDict(state)

    def __repr__(self) -> str:
        return f'ScriptObjectState({self.qualname})'


class _StorageType:
    """What a ``torch.<Type>Storage`` name resolves to: its dtype only."""

    def __init__(self, name: str, dtype: torch.dtype) -> None:
        self.name = name
        self.dtype = dtype


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler of a TorchScript ``data.pkl`` that can only build tensors,
    plain containers and :class:`ScriptObjectState` objects."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str,
                 name: str) -> None:
        super().__init__(io.BytesIO(data))
        self._archive = archive
        self._prefix = prefix
        self._name = name
        self._classes: Dict[str, type] = {}
        self._storages: Dict[str, torch.storage.TypedStorage] = {}

    def find_class(self, module: str, name: str):
        if module == 'torch._utils' and name == '_rebuild_tensor_v2':
            return self._rebuild_tensor
        if module == 'torch' and name in STORAGE_DTYPES:
            return _StorageType(name, STORAGE_DTYPES[name])
        if module == 'collections' and name == 'OrderedDict':
            return collections.OrderedDict
        if module == 'torch.jit._pickle' and name in _TYPE_TAGS:
            return getattr(torch.jit._pickle, name)
        if module == '__torch__' or module.startswith('__torch__.'):
            qualname = f'{module}.{name}'
            if qualname.startswith('__torch__.torch.classes.'):
                raise pickle.UnpicklingError(
                    f'it holds an object of the C++ class {qualname}, whose '
                    'state only its own code can rebuild')
            if qualname not in self._classes:
                self._classes[qualname] = type(
                    'ScriptObjectState', (ScriptObjectState, ),
                    dict(qualname=qualname))
            return self._classes[qualname]
        raise pickle.UnpicklingError(
            f'it asks for {module}.{name}, which a TorchScript archive of '
            'weights never needs')

    def persistent_load(self, pid):
        if (not isinstance(pid, tuple) or len(pid) != 5
                or pid[0] != 'storage'
                or not isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(
                f'unexpected persistent id {pid!r:.80}')
        _, storage_type, key, _location, numel = pid
        key = str(key)
        if key in self._storages:
            return self._storages[key]
        entry = f'{self._prefix}/data/{key}'
        try:
            raw = self._archive.read(entry)
        except KeyError:
            raise NotACheckpointError(
                f'{self._name}: the archive has no storage {entry!r}, which '
                'its data.pkl refers to') from None
        dtype = storage_type.dtype
        itemsize = torch.empty((), dtype=dtype).element_size()
        if not isinstance(numel, int) or len(raw) != numel * itemsize:
            raise NotACheckpointError(
                f'{self._name}: storage {entry!r} has {len(raw)} bytes, its '
                f'data.pkl says {numel!r} elements of {dtype} '
                f'({itemsize} bytes each)')
        untyped = (torch.UntypedStorage.from_buffer(raw, dtype=torch.uint8)
                   if raw else torch.UntypedStorage(0))
        storage = torch.storage.TypedStorage(
            wrap_storage=untyped, dtype=dtype, _internal=True)
        self._storages[key] = storage
        return storage

    def _rebuild_tensor(self, storage, storage_offset, size, stride,
                        requires_grad, backward_hooks, metadata=None):
        """torch's ``_rebuild_tensor_v2`` for the arguments a weight has."""
        ints = (isinstance(storage_offset, int)
                and isinstance(size, tuple) and isinstance(stride, tuple)
                and all(isinstance(v, int) for v in size + stride))
        if (not isinstance(storage, torch.storage.TypedStorage) or not ints
                or not isinstance(requires_grad, bool)
                or not isinstance(backward_hooks, collections.OrderedDict)
                or backward_hooks or metadata not in (None, {})):
            raise pickle.UnpicklingError(
                'a tensor is rebuilt with arguments a weight never has')
        try:
            return torch._utils._rebuild_tensor_v2(
                storage, storage_offset, size, stride, requires_grad,
                backward_hooks)
        except RuntimeError as err:  # e.g. a view outside its storage
            raise NotACheckpointError(
                f'{self._name}: a tensor of size {size} does not fit its '
                f'storage: {err}') from None


def is_torchscript_archive(path: str) -> bool:
    """Whether ``path`` is a zip archive written by ``torch.jit.save``.

    Args:
        path (str): A file.

    Returns:
        bool: True for a zip with ``<archive>/data.pkl`` and TorchScript
        code (``<archive>/constants.pkl`` or ``<archive>/code/``); False
        for anything else, ``torch.save`` archives included.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    prefixes = {n.split('/', 1)[0] for n in names if n.count('/') == 1
                and n.endswith('/data.pkl')}
    return any(f'{p}/constants.pkl' in names
               or any(n.startswith(f'{p}/code/') for n in names)
               for p in prefixes)


def _declarations(archive: zipfile.ZipFile, prefix: str
                  ) -> Dict[str, Tuple[List[str], List[str], bool]]:
    """``qualname → (parameters, buffers, is_module)`` of every class the
    archive's code declares, read as text (nothing is compiled)."""
    found = {}
    head = f'{prefix}/code/'
    for entry in archive.namelist():
        if not (entry.startswith(head) and entry.endswith('.py')):
            continue
        module = entry[len(head):-len('.py')].replace('/', '.')
        text = archive.read(entry).decode('utf-8', errors='replace')
        current = None
        for line in text.splitlines():
            match = re.match(r'class (\w+)(?:\((\w*))?', line)
            if match:
                current = f'{module}.{match.group(1)}'
                found[current] = ([], [], match.group(2) == 'Module')
                continue
            match = re.match(r'\s+__(parameters|buffers)__ = \[(.*)\]',
                             line)
            if match and current is not None:
                names = re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(2))
                found[current][0 if match.group(1) == 'parameters'
                               else 1].extend(names)
    return found


def _state_dict(obj: ScriptObjectState, declared: dict, prefix: str,
                out: 'collections.OrderedDict', ancestors: tuple,
                name: str) -> None:
    """Add ``obj``'s parameters, then buffers, then its submodules' (the
    order of ``Module.state_dict``)."""
    if any(obj is a for a in ancestors):
        raise NotACheckpointError(
            f'{name}: module {prefix.rstrip(".")!r} contains itself.')
    attrs = obj.attributes
    params, buffers, _ = declared.get(obj.qualname, (None, None, True))
    if params is None:  # no declaration: every tensor attribute
        kinds = [[n for n, v in attrs.items() if torch.is_tensor(v)]]
    else:
        kinds = [[n for n in attrs if n in set(params)],
                 [n for n in attrs if n in set(buffers)]]
    for names in kinds:
        for attr in names:
            value = attrs[attr]
            if torch.is_tensor(value):
                out[prefix + attr] = value.detach()
    for attr, value in attrs.items():
        if isinstance(value, ScriptObjectState) and declared.get(
                value.qualname, (None, None, True))[2]:
            _state_dict(value, declared, f'{prefix}{attr}.', out,
                        ancestors + (obj, ), name)


def read_torchscript_state_dict(
        path: str) -> 'collections.OrderedDict[str, torch.Tensor]':
    """The state dict of a TorchScript archive, without running any of it.

    Args:
        path (str): A file written by ``torch.jit.save`` (e.g. OpenAI's
            ``ViT-B-16.pt``).

    Returns:
        OrderedDict[str, Tensor]: Parameters and buffers by dotted name,
        on the CPU, in the archive's dtypes (OpenAI's CLIP files: mostly
        float16), in the order of ``torch.jit.load(path).state_dict()``.

    Raises:
        UnsafeCheckpointError: ``data.pkl`` asks for anything but tensors,
            containers and the archive's own module classes.
        NotACheckpointError: Not a TorchScript archive, or a broken one
            (a missing or short storage, a tensor outside its storage).
    """
    name = os.fspath(path)
    if not is_torchscript_archive(name):
        raise NotACheckpointError(
            f'{name} is not a TorchScript archive (a zip file written by '
            'torch.jit.save, with data.pkl and code/).')
    with zipfile.ZipFile(name) as archive:
        prefix = next(n.split('/', 1)[0] for n in archive.namelist()
                      if n.count('/') == 1 and n.endswith('/data.pkl'))
        byteorder = f'{prefix}/byteorder'
        if (byteorder in archive.namelist()
                and archive.read(byteorder).strip() not in (b'', b'little')):
            raise NotACheckpointError(
                f'{name}: the archive stores big-endian tensors, which '
                'mmieee does not read.')
        data = archive.read(f'{prefix}/data.pkl')
        unpickler = _RestrictedUnpickler(data, archive, prefix, name)
        try:
            with warnings.catch_warnings():
                # TypedStorage (what _rebuild_tensor_v2 takes) warns that it
                # is deprecated
                warnings.simplefilter('ignore', UserWarning)
                root = unpickler.load()
        except (NotACheckpointError, UnsafeCheckpointError):
            raise
        except pickle.UnpicklingError as err:
            raise UnsafeCheckpointError(
                f'Refusing to read TorchScript archive {name}: {err}. '
                'mmieee reads only the tensors of such archives and runs '
                f'none of their code (see {_README}).') from None
        except Exception as err:  # malformed pickle data
            raise NotACheckpointError(
                f'{name}: its data.pkl is not a readable TorchScript '
                f'pickle ({type(err).__name__}: {err}).') from None
        if not isinstance(root, ScriptObjectState):
            raise NotACheckpointError(
                f'{name}: its data.pkl holds a {type(root).__name__}, not a '
                'TorchScript module.')
        declared = _declarations(archive, prefix)
    out: 'collections.OrderedDict[str, torch.Tensor]' = (
        collections.OrderedDict())
    _state_dict(root, declared, '', out, (), name)
    return out
