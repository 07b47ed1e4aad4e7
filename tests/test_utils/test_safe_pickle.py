# Copyright (c) mmieee contributors.
"""The plain-pickle reader builds numpy data arrays and plain containers
only, and checks an array's state before numpy reads it."""
import pickle
import subprocess
import sys

import numpy as np
import pytest

from mmieee.utils import UnsafeCheckpointError
from mmieee.utils.safe_pickle import (check_data_dtype, load_plain_pickle,
                                      release_arrays)

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - old numpy
    from numpy.core.multiarray import _reconstruct


class _ShortObjectArray:

    def __reduce__(self):
        return (_reconstruct, (np.ndarray, (0, ), b'b'),
                (1, (100000, ), np.dtype('O'), False, []))


class _Forging(pickle.Pickler):
    """Writes float dtypes with the flags meaning "holds objects"."""

    def reducer_override(self, obj):
        if isinstance(obj, np.dtype) and obj.kind == 'f':
            return (np.dtype, (obj.str, False, True),
                    (3, '<', None, None, None, -1, -1, 63))
        return NotImplemented


def test_plain_data_round_trips_as_plain_types(tmp_path):
    data = dict(feats=np.arange(6, dtype='>f4').reshape(2, 3),
                pids=np.array([1, 2]), flags=np.array([True, False]),
                names=np.array(['a', 'bc']), scalar=np.float64(2.5),
                nested=[(np.zeros(2), b'raw'), {'x': 1}])
    path = tmp_path / 'plain.pkl'
    for protocol in (2, 4):
        path.write_bytes(pickle.dumps(data, protocol=protocol))
        back = load_plain_pickle(str(path))
        reference = pickle.loads(path.read_bytes())  # numpy's own result
        assert type(back['feats']) is np.ndarray
        assert type(back['nested'][0][0]) is np.ndarray
        np.testing.assert_array_equal(back['feats'], data['feats'])
        assert back['feats'].dtype == reference['feats'].dtype
        np.testing.assert_array_equal(back['names'], data['names'])
        assert back['scalar'] == 2.5 and back['nested'][0][1] == b'raw'


def test_short_object_array_is_refused_in_a_fresh_process(tmp_path):
    path = tmp_path / 'gallery.pkl'
    path.write_bytes(pickle.dumps({'feats': _ShortObjectArray()}, 2))
    code = ('from mmieee.evaluation import FeatureSet\n'
            'from mmieee.utils import UnsafeCheckpointError\n'
            'try:\n'
            f'    FeatureSet.load({str(path)!r})\n'
            'except UnsafeCheckpointError as err:\n'
            '    print("REFUSED", err)\n')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'REFUSED Refusing to read {path}' in proc.stdout
    assert 'dtype object' in proc.stdout


def test_forged_dtype_flags_are_refused(tmp_path):
    path = tmp_path / 'forged.pkl'
    with open(path, 'wb') as f:
        _Forging(f, protocol=2).dump({'feats': np.zeros((2, 2))})
    with pytest.raises(UnsafeCheckpointError, match='forged.pkl.*flags'):
        load_plain_pickle(str(path))


@pytest.mark.parametrize('dtype', ['O', 'V8', 'M8[s]', [('a', 'f4')],
                                   '(2,)f4'])
def test_non_data_dtypes_are_refused(dtype):
    with pytest.raises(pickle.UnpicklingError):
        check_data_dtype(np.dtype(dtype))


def test_release_arrays_refuses_a_forged_dtype_anywhere():
    forged = np.dtype('f8', False, True)
    forged.__setstate__((3, '<', None, None, None, -1, -1, 63))
    with pytest.raises(pickle.UnpicklingError, match='flags'):
        release_arrays({'meta': [forged]})
