# Copyright (c) mmieee contributors.
"""Read plain pickles (feature files) without running code from them.

Why hand-written: :mod:`pickle` has no allow-list option, and
``torch.load(weights_only=True)`` reads torch's zip format, not a plain
pickle. :func:`load_plain_pickle` builds only plain containers, strings,
numbers and numpy arrays / scalars / dtypes of *data* types: a file that
names any other global (``os.system``, ``builtins.eval``, a class with a
``__setstate__``) is refused before anything is called, and so is a numpy
dtype that holds Python objects (an object array is a pickle inside the
pickle; numpy also trusts the state of such an array, and a short one
crashes the interpreter). :func:`checked_dtype` is the same numpy guard for
:mod:`.safe_checkpoint`, whose allow-list also admits numpy arrays.
"""
import pickle
from typing import Any

import numpy as np

from .errors import UnsafeCheckpointError

#: (module, name) globals a plain feature pickle may name, besides the
#: numpy dtype classes (``numpy.dtypes.Float32DType``, ...).
_ALLOWED = {
    ('numpy', 'ndarray'),
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    # protocol-2 pickles (mmengine.dump) spell bytes this way
    ('_codecs', 'encode'),
}


def checked_dtype(*args, **kwargs) -> np.dtype:
    """``numpy.dtype(*args)``, refusing dtypes that hold Python objects.

    Raises:
        pickle.UnpicklingError: The dtype is (or contains) ``object``.
    """
    dtype = np.dtype(*args, **kwargs)
    if dtype.hasobject:
        raise pickle.UnpicklingError(
            f'it holds a numpy array of dtype {dtype} (Python objects); '
            'only arrays of numbers, booleans and strings are read')
    return dtype


def _dtype_class(name: str):
    cls = getattr(np.dtypes, name, None)
    if cls is None or name == 'ObjectDType' or not name.endswith('DType'):
        return None
    return cls


class _PlainUnpickler(pickle.Unpickler):
    """Plain containers and numpy data arrays only (module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module == 'numpy' and name == 'dtype':
            return checked_dtype
        if module == 'numpy.dtypes' and _dtype_class(name) is not None:
            return _dtype_class(name)
        raise pickle.UnpicklingError(
            f'it holds a {module}.{name} object; only numpy arrays and plain '
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
            return _PlainUnpickler(f).load()
        except pickle.UnpicklingError as err:
            raise UnsafeCheckpointError(
                f'Refusing to read {path}: {err}. Such a file could run code '
                'when unpickled.') from err
        except (EOFError, ValueError, TypeError, AttributeError,
                IndexError) as err:
            raise ValueError(f'{path} is not a readable pickle of arrays '
                             f'({type(err).__name__}: {err})') from err
