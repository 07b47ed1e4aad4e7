# Copyright (c) mmieee contributors.
"""Read plain pickles (feature files) without running code from them, and
the numpy rule every mmieee reader shares.

Why hand-written: :mod:`pickle` has no allow-list option, and
``torch.load(weights_only=True)`` reads torch's zip format, not a plain
pickle. :func:`load_plain_pickle` builds only plain containers, strings,
numbers and numpy arrays / scalars / dtypes of *data* types: a file that
names any other global (``os.system``, ``builtins.eval``, a class with a
``__setstate__``) is refused before anything is called.

**The numpy rule** (:data:`NUMPY_GLOBALS`, also used by
:mod:`.safe_checkpoint`): numpy pickles an array as
``_reconstruct(ndarray, (0,), b'b')`` followed by its state ``(version,
shape, dtype, fortran, data)``, and numpy trusts that state. An array of
Python objects is a pickle inside the pickle, and a short one (fewer
objects than its shape says) crashes the interpreter; a dtype's own state
can also switch on numpy's "holds objects" flags of a float dtype. So the
readers build arrays only through :func:`checked_reconstruct`, whose arrays
check their state *before* numpy reads it (:func:`check_data_dtype`:
booleans, integers, floats, complex, bytes and str only, no fields, no
sub-arrays, the dtype's natural flags) and then use a private copy of the
dtype (the file keeps a reference to its own and could change it later),
and dtypes / scalars through :func:`checked_dtype` /
:func:`checked_scalar`. :func:`release_arrays`
turns the checked arrays of a loaded object back into plain ``ndarray``.
"""
import pickle
from typing import Any, Callable, Dict

import numpy as np

from .errors import UnsafeCheckpointError

try:  # numpy >= 1.25 moved the reconstructor to numpy._core
    from numpy._core.multiarray import scalar as _np_scalar
except ImportError:  # pragma: no cover - old numpy
    from numpy.core.multiarray import scalar as _np_scalar

#: numpy dtype kinds a file may hold: bool, signed / unsigned int, float,
#: complex, bytes, str (no objects, structures, dates or void).
DATA_KINDS = 'biufcSU'


def check_data_dtype(dtype: Any) -> np.dtype:
    """Return ``dtype`` if it is a plain data dtype, else refuse it.

    Args:
        dtype: What a file gave as a numpy dtype.

    Returns:
        np.dtype: ``dtype``.

    Raises:
        pickle.UnpicklingError: Not a dtype, a dtype that is (or contains)
            ``object``, a structured / sub-array / void / date dtype, or a
            dtype whose flags differ from those numpy gives it (a file can
            set them, e.g. to "holds objects").
    """
    if not isinstance(dtype, np.dtype):
        raise pickle.UnpicklingError(
            f'it gives {type(dtype).__name__} where numpy needs a dtype')
    if dtype.kind in DATA_KINDS and dtype.names is None and \
            dtype.flags != np.dtype(dtype.str).flags:
        raise pickle.UnpicklingError(
            f'it holds a numpy dtype {dtype} with the flags {dtype.flags} '
            f'instead of numpy\'s {np.dtype(dtype.str).flags} (flags a '
            'file sets can make numpy read data as Python objects)')
    if dtype.hasobject or dtype.kind == 'O':
        raise pickle.UnpicklingError(
            f'it holds a numpy array of dtype {dtype} (Python objects); '
            'only arrays of numbers, booleans and strings are read')
    if dtype.kind not in DATA_KINDS or dtype.names is not None \
            or dtype.subdtype is not None:
        raise pickle.UnpicklingError(
            f'it holds a numpy dtype {dtype} (kind {dtype.kind!r}); only '
            'plain arrays of numbers, booleans and strings are read')
    return dtype


def checked_dtype(*args, **kwargs) -> np.dtype:
    """``numpy.dtype(*args)``, refusing what :func:`check_data_dtype`
    refuses.

    Raises:
        pickle.UnpicklingError: See :func:`check_data_dtype`.
    """
    try:
        dtype = np.dtype(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise pickle.UnpicklingError(
            f'it holds an invalid numpy dtype {args!r}: {err}') from err
    return check_data_dtype(dtype)


def private_dtype(dtype: Any) -> np.dtype:
    """A checked dtype's equal that the file holds no reference to (so
    that it cannot change its flags later)."""
    return np.dtype(check_data_dtype(dtype).str)


def checked_scalar(dtype: np.dtype, *args) -> Any:
    """numpy's scalar reconstructor for data dtypes only."""
    return _np_scalar(private_dtype(dtype), *args)


class _CheckedArray(np.ndarray):
    """An array under construction whose state is checked before numpy
    reads it (module docstring); :func:`release_arrays` makes it a plain
    ``ndarray`` once loading is done."""

    def __setstate__(self, state) -> None:
        if not (isinstance(state, tuple) and len(state) == 5):
            raise pickle.UnpicklingError(
                'it gives a numpy array a state that is not (version, '
                'shape, dtype, fortran, data)')
        version, shape, dtype, fortran, data = state
        dtype = private_dtype(dtype)
        if not isinstance(data, (bytes, bytearray)):
            raise pickle.UnpicklingError(
                f'it gives a numpy array {type(data).__name__} data instead '
                'of bytes')
        if not (isinstance(shape, tuple)
                and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise pickle.UnpicklingError(
                f'it gives a numpy array the shape {shape!r}')
        super().__setstate__((version, shape, dtype, fortran, data))


def checked_reconstruct(subtype: type, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's ``_reconstruct`` for plain ``ndarray`` only, as numpy
    pickles it (an empty array whose state follows); the array checks its
    state (:class:`_CheckedArray`)."""
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError(
            f'it reconstructs a numpy {getattr(subtype, "__name__", subtype)}'
            '; only plain numpy arrays are read')
    if shape not in ((0, ), [0], 0):
        raise pickle.UnpicklingError(
            f'it reconstructs a numpy array of shape {shape!r}; numpy writes '
            'an empty one and then its state')
    checked_dtype(dtype)
    return np.ndarray.__new__(_CheckedArray, (0, ), np.dtype('b'))


def _dtype_classes() -> Dict[str, type]:
    """numpy's dtype classes of the data kinds (a dtype's type, which
    torch's unpickler must know to restore a dtype's state)."""
    out = {}
    for name in dir(np.dtypes):
        cls = getattr(np.dtypes, name)
        if not name.endswith('DType'):
            continue
        try:
            kind = cls.type(0).dtype.kind if cls.type else None
        except Exception:  # parametric dtypes (bytes, str, void, dates)
            kind = {'BytesDType': 'S', 'StrDType': 'U'}.get(name)
        if kind is not None and kind in DATA_KINDS:
            out[f'numpy.dtypes.{name}'] = cls
    return out


#: The numpy globals a file may name, mapped to what the readers give it.
NUMPY_GLOBALS: Dict[str, Callable] = {
    'numpy.ndarray': np.ndarray,
    'numpy.dtype': checked_dtype,
    'numpy.core.multiarray._reconstruct': checked_reconstruct,
    'numpy._core.multiarray._reconstruct': checked_reconstruct,
    'numpy.core.multiarray.scalar': checked_scalar,
    'numpy._core.multiarray.scalar': checked_scalar,
    **_dtype_classes(),
}


def release_arrays(obj: Any) -> Any:
    """``obj`` with every checked array made a plain ``ndarray`` (in place
    in dicts, lists and objects' ``__dict__``; tuples are rebuilt).

    Also refuses a dtype lying anywhere in ``obj`` whose flags were set by
    the file (:func:`check_data_dtype`).
    """
    seen = set()

    def walk(x):
        if isinstance(x, _CheckedArray):
            return x.view(np.ndarray)
        if isinstance(x, np.dtype):
            return private_dtype(x)
        if id(x) in seen:
            return x
        if isinstance(x, dict):
            seen.add(id(x))
            for k in list(x):
                x[k] = walk(x[k])
            if hasattr(x, '__dict__'):  # OrderedDict's _metadata
                walk(vars(x))
        elif isinstance(x, list):
            seen.add(id(x))
            x[:] = [walk(v) for v in x]
        elif type(x) is tuple:
            return tuple(walk(v) for v in x)
        elif hasattr(x, '__dict__') and not isinstance(x, type) \
                and type(x).__module__.startswith('mmengine'):
            seen.add(id(x))  # HistoryBuffer
            walk(vars(x))
        return x

    return walk(obj)


class _PlainUnpickler(pickle.Unpickler):
    """Plain containers and numpy data arrays only (module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        full = f'{module}.{name}'
        if full in NUMPY_GLOBALS:
            return NUMPY_GLOBALS[full]
        if full == '_codecs.encode':  # protocol 2 (mmengine.dump) bytes
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'it holds a {full} object; only numpy arrays and plain '
            'containers are read from such files')


def load_plain_pickle(path: str) -> Any:
    """Unpickle ``path`` with the restricted unpickler.

    Args:
        path (str): A pickle of plain containers and numpy arrays (e.g. a
            ``tools/test.py --dump`` feature file).

    Returns:
        The unpickled object.

    Raises:
        UnsafeCheckpointError: The file names anything else (the message
            names the file and what it asked for).
        ValueError: The file is not a readable pickle.
    """
    with open(path, 'rb') as f:
        try:
            return release_arrays(_PlainUnpickler(f).load())
        except pickle.UnpicklingError as err:
            raise UnsafeCheckpointError(
                f'Refusing to read {path}: {err}. Such a file could run code '
                'or crash the process when unpickled.') from err
        except (EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError, RecursionError) as err:
            raise ValueError(f'{path} is not a readable pickle of arrays '
                             f'({type(err).__name__}: {err})') from err
