# Copyright (c) mmieee contributors.
"""mmieee's checkpoint loading runs no code from the file, for every scheme,
and still loads what mmengine writes."""
import functools
import http.server
import os
import pickle
import threading

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmieee.utils import safe_checkpoint
from mmieee.utils.safe_checkpoint import (SCHEME_LOADERS,
                                          CheckpointDownloadError,
                                          NotACheckpointError,
                                          UnsafeCheckpointError)


@pytest.fixture(autouse=True)
def untrusted(monkeypatch):
    monkeypatch.delenv(safe_checkpoint.TRUST_ENV, raising=False)


def _marker_code(marker) -> str:
    """Python that creates ``marker`` and evaluates to a tensor (so that a
    successful attack lets loading carry on unnoticed)."""
    return (f"open({str(marker)!r}, 'w').close() or "
            "__import__('torch').zeros(1)")


class _Builtins:
    """Pickles as ``getattr(getattr, '__self__')``: the builtins module."""

    def __reduce__(self):
        return getattr, (getattr, '__self__')


class _Eval:
    """Pickles as ``getattr(<builtins>, 'eval')``."""

    def __reduce__(self):
        return getattr, (_Builtins(), 'eval')


class _Trampoline:
    """torch's allow-listed ``_rebuild_from_type_v2(func, type, args, state)``
    calls ``func(*args)``: handed ``eval`` fetched through ``getattr`` it
    runs any code and returns a tensor."""

    def __init__(self, marker):
        self.code = _marker_code(marker)

    def __reduce__(self):
        return (torch._tensor._rebuild_from_type_v2,
                (_Eval(), torch.Tensor, (self.code, ), {}))


class _Plain:
    """The classic payload: ``__reduce__`` naming ``eval`` directly."""

    def __init__(self, marker):
        self.code = _marker_code(marker)

    def __reduce__(self):
        return eval, (self.code, )


def _mmengine_like(**extra):
    buf = HistoryBuffer()
    buf.update(0.5)
    ckpt = dict(
        meta=dict(epoch=1, seed=0, arr=np.arange(3)),
        state_dict={'w': torch.ones(2)},
        message_hub=dict(log_scalars={'train/loss': buf}))
    ckpt.update(extra)
    return ckpt


def test_mmengine_checkpoint_with_history_buffer_loads(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    torch.save(_mmengine_like(), path)
    loaded = CheckpointLoader.load_checkpoint(str(path))
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert buf.current() == 0.5 and buf.mean() == 0.5
    np.testing.assert_array_equal(loaded['meta']['arr'], np.arange(3))


@pytest.mark.parametrize('where', ['meta', 'state_dict'])
@pytest.mark.parametrize('payload', [_Trampoline, _Plain])
def test_code_execution_payloads_are_refused(tmp_path, where, payload):
    marker = tmp_path / 'pwned'
    ckpt = _mmengine_like()
    if where == 'meta':
        ckpt['meta']['note'] = payload(marker)
    else:  # hidden as a "tensor" of the state dict
        ckpt['state_dict']['backbone.weight'] = payload(marker)
    path = tmp_path / 'evil.pth'
    torch.save(ckpt, path)
    with pytest.raises(UnsafeCheckpointError) as err:
        CheckpointLoader.load_checkpoint(str(path))
    assert not marker.exists(), 'the payload ran'
    assert str(path) in str(err.value)
    assert 'eval' in str(err.value) or 'getattr' in str(err.value)


def test_the_trampoline_does_run_under_the_full_pickle(tmp_path,
                                                       monkeypatch):
    """The payload above is real: the opt-in full loader runs it (so the
    refusals above are the loader's doing, not a broken payload)."""
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil.pth'
    torch.save(_mmengine_like(x=_Trampoline(marker)), path)
    monkeypatch.setenv(safe_checkpoint.TRUST_ENV, '1')
    loaded = CheckpointLoader.load_checkpoint(str(path))
    assert marker.exists()
    assert torch.equal(loaded['x'], torch.zeros(1))


class _SwapStatistics:
    """A HistoryBuffer whose pickled state replaces the class-wide
    statistics table (``HistoryBuffer.__setstate__`` updates it)."""

    def __reduce__(self):
        return (HistoryBuffer, (), {
            'statistics_methods': {'mean': torch.Tensor},
            '_log_history': np.zeros(1),
            '_count_history': np.ones(1),
            'max_length': 10
        })


def test_file_changing_history_buffer_statistics_is_refused(tmp_path):
    before = dict(HistoryBuffer._statistics_methods)
    path = tmp_path / 'swap.pth'
    torch.save(_mmengine_like(x=_SwapStatistics()), path)
    with pytest.raises(UnsafeCheckpointError, match='statistics methods'):
        CheckpointLoader.load_checkpoint(str(path))
    assert HistoryBuffer._statistics_methods == before


def test_getattr_stand_in_only_returns_statistics_methods():
    getattr_ = safe_checkpoint._history_buffer_getattr
    assert getattr_(HistoryBuffer, 'mean') is HistoryBuffer.mean
    for obj, name in ((HistoryBuffer, '__init__'), (getattr, '__self__'),
                      (HistoryBuffer(), 'mean'), (os, 'system')):
        with pytest.raises(pickle.UnpicklingError, match=repr(name)):
            getattr_(obj, name)


def test_not_a_checkpoint_says_so_without_trust_advice(tmp_path):
    jpeg = tmp_path / 'photo.pth'
    jpeg.write_bytes(b'\xff\xd8\xff\xe0' + bytes(64))
    plain = tmp_path / 'list.pkl'
    with open(plain, 'wb') as f:
        pickle.dump([1, 2, 3], f)
    listed = tmp_path / 'list.pth'
    torch.save([1, 2], listed)
    for path, what in ((jpeg, 'JPEG'), (plain, 'neither a zip'),
                       (listed, 'holds a list')):
        with pytest.raises(NotACheckpointError) as err:
            CheckpointLoader.load_checkpoint(str(path))
        msg = str(err.value)
        assert str(path) in msg and 'not a' in msg and what in msg
        assert safe_checkpoint.TRUST_ENV not in msg


def test_truncated_checkpoint_is_not_a_readable_checkpoint(tmp_path):
    path = tmp_path / 'epoch_3.pth'
    torch.save(_mmengine_like(), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(NotACheckpointError, match='epoch_3.pth'):
        CheckpointLoader.load_checkpoint(str(path))


def test_missing_checkpoint_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'nope.pth'))


def test_every_mmengine_scheme_goes_through_a_safe_loader():
    assert set(CheckpointLoader._schemes) == set(SCHEME_LOADERS)
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader is SCHEME_LOADERS[prefix], prefix


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/'srv' on 127.0.0.1; yields (folder, base url)."""
    folder = tmp_path / 'srv'
    folder.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()


@pytest.fixture
def hub_dir(tmp_path):
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    yield tmp_path / 'hub'
    torch.hub.set_dir(old)


def test_payload_over_http_is_refused_naming_the_url(tmp_path, http_server,
                                                     hub_dir):
    folder, base = http_server
    marker = tmp_path / 'pwned'
    torch.save(_mmengine_like(x=_Trampoline(marker)), folder / 'evil.pth')
    torch.save(_mmengine_like(), folder / 'good.pth')
    with pytest.raises(UnsafeCheckpointError, match=f'{base}/evil.pth'):
        CheckpointLoader.load_checkpoint(f'{base}/evil.pth')
    assert not marker.exists()
    good = CheckpointLoader.load_checkpoint(f'{base}/good.pth')
    assert torch.equal(good['state_dict']['w'], torch.ones(2))
    # cached where torch.hub caches (per URL: the name has no hash), so it
    # is reused offline
    cached = safe_checkpoint.cached_download_path(
        f'{base}/good.pth', str(hub_dir / 'checkpoints'))
    assert cached.startswith(str(hub_dir / 'checkpoints'))
    assert os.path.isfile(cached)
    (folder / 'good.pth').unlink()
    again = CheckpointLoader.load_checkpoint(f'{base}/good.pth')
    assert torch.equal(again['state_dict']['w'], torch.ones(2))


def test_two_urls_with_one_file_name_are_two_cache_files(
        http_server, hub_dir):
    folder, base = http_server
    for run, value in (('a', 1.0), ('b', 2.0)):
        (folder / run).mkdir()
        torch.save({'state_dict': {'w': torch.full((2, ), value)}},
                   folder / run / 'epoch_8.pth')
    first = CheckpointLoader.load_checkpoint(f'{base}/a/epoch_8.pth')
    second = CheckpointLoader.load_checkpoint(f'{base}/b/epoch_8.pth')
    assert torch.equal(first['state_dict']['w'], torch.ones(2))
    assert torch.equal(second['state_dict']['w'], torch.full((2, ), 2.0))
    # a name with a content hash prefix is one file for every URL
    assert safe_checkpoint.cached_download_path(
        'https://x/resnet50-0676ba61.pth', 'c') == os.path.join(
            'c', 'resnet50-0676ba61.pth')


def test_torchvision_weights_offline_name_the_file_to_provide(
        hub_dir, monkeypatch):
    import socket
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    url = f'http://127.0.0.1:{port}/resnet50-0676ba61.pth'
    monkeypatch.setattr('mmengine.runner.checkpoint.get_torchvision_models',
                        lambda: {'resnet50': url})
    with pytest.raises(CheckpointDownloadError) as err:
        CheckpointLoader.load_checkpoint('torchvision://resnet50')
    msg = str(err.value)
    assert str(hub_dir / 'checkpoints' / 'resnet50-0676ba61.pth') in msg
    assert 'ImageNet initialisation' in msg and url in msg


def test_real_checkpoint_loads_in_a_fresh_process(tmp_path):
    """In a new interpreter the class-wide statistics table is still empty
    when the first checkpoint is loaded; a real checkpoint must load."""
    import subprocess
    import sys
    path = tmp_path / 'epoch_1.pth'
    torch.save(_mmengine_like(), path)
    code = ('import mmieee; from mmengine.runner.checkpoint import '
            'CheckpointLoader as L; c = L.load_checkpoint(%r); '
            "print(c['message_hub']['log_scalars']['train/loss'].mean())"
            % str(path))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip().endswith('0.5')


# ---------------------------------------------------------------------------
# Payloads that build objects torch's weights-only list admits but mmieee
# does not: each is loaded in a fresh interpreter (a crash must show as a
# failed test, not kill the test run).
# ---------------------------------------------------------------------------
try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - old numpy
    from numpy.core.multiarray import _reconstruct


class _ShortObjectArray:
    """An object array whose state holds fewer objects than its shape:
    numpy trusts the state and reads past the list (a segfault)."""

    def __reduce__(self):
        return (_reconstruct, (np.ndarray, (0, ), b'b'),
                (1, (100000, ), np.dtype('O'), False, []))


class _Mesh:
    """A DeviceMesh: building it starts a process group."""

    def __reduce__(self):
        from torch.distributed.device_mesh import DeviceMesh
        return DeviceMesh, ('cpu', [0])


def _load_in_subprocess(path, env=None, prelude=''):
    import subprocess
    import sys
    code = (f'{prelude}\nimport mmieee, torch\n'
            'from mmengine.runner.checkpoint import CheckpointLoader as L\n'
            'from mmieee.utils import UnsafeCheckpointError\n'
            'try:\n'
            f'    L.load_checkpoint({str(path)!r})\n'
            '    print("LOADED")\n'
            'except UnsafeCheckpointError as err:\n'
            '    print("REFUSED", err)\n'
            'print("PG", torch.distributed.is_initialized())\n')
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.pop(safe_checkpoint.TRUST_ENV, None)
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=120, env=full_env)


def test_short_object_array_is_refused_not_a_crash(tmp_path):
    path = tmp_path / 'short.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'x': _ShortObjectArray()},
               path)
    proc = _load_in_subprocess(path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'REFUSED Refusing to load checkpoint {path}' in proc.stdout
    assert 'dtype object' in proc.stdout


def test_device_mesh_is_refused_before_anything_is_built(tmp_path):
    """torch registers DeviceMesh as safe once torch.distributed.tensor is
    imported; built with the launcher's variables set it would start a
    process group (or block waiting for peers)."""
    path = tmp_path / 'mesh.pth'
    torch.save({'state_dict': {}, 'mesh': _Mesh()}, path)
    env = dict(RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
               MASTER_PORT=str(29400 + os.getpid() % 500))
    proc = _load_in_subprocess(
        path, env, prelude='import torch.distributed.tensor')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'REFUSED Refusing to load checkpoint {path}' in proc.stdout
    assert 'DeviceMesh' in proc.stdout
    assert 'PG False' in proc.stdout
    assert 'weights_only=False' not in proc.stdout


class _SwapWithObjectArray:
    """The statistics table swapped for an object array that holds the
    original function (it compares equal to it)."""

    def __reduce__(self):
        return (HistoryBuffer, (), {
            'statistics_methods': {
                'mean': np.array([HistoryBuffer.mean], dtype=object)
            },
            '_log_history': np.zeros(1),
            '_count_history': np.ones(1),
            'max_length': 10
        })


def test_statistics_table_swap_through_object_array_is_refused(tmp_path):
    before = dict(HistoryBuffer._statistics_methods)
    path = tmp_path / 'swap.pth'
    torch.save(_mmengine_like(x=_SwapWithObjectArray()), path)
    with pytest.raises(UnsafeCheckpointError, match='swap.pth'):
        CheckpointLoader.load_checkpoint(str(path))
    after = HistoryBuffer._statistics_methods
    assert set(after) == set(before)
    assert all(after[k] is v for k, v in before.items())


def _forged_flags_pickler(pickle_base):
    """A Pickler that writes every float64 dtype with the flags that mean
    "holds Python objects"."""

    class Forging(pickle_base):

        def reducer_override(self, obj):
            if isinstance(obj, np.dtype) and obj.kind == 'f':
                return (np.dtype, (obj.str, False, True),
                        (3, '<', None, None, None, -1, -1, 63))
            return NotImplemented

    return Forging


def test_dtype_with_forged_object_flags_is_refused(tmp_path):
    import types
    module = types.SimpleNamespace(
        Pickler=_forged_flags_pickler(pickle.Pickler),
        __name__='pickle')
    path = tmp_path / 'forged.pth'
    torch.save({'state_dict': {}, 'a': np.zeros(4)}, path,
               pickle_module=module)
    proc = _load_in_subprocess(path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'REFUSED' in proc.stdout and 'flags' in proc.stdout


def test_sparse_tensor_checkpoint_is_refused_with_the_reason(tmp_path):
    path = tmp_path / 'sparse.pth'
    torch.save({'state_dict': {'w': torch.eye(3).to_sparse()}}, path)
    with pytest.raises(UnsafeCheckpointError, match='sparse') as err:
        CheckpointLoader.load_checkpoint(str(path))
    assert str(path) in str(err.value)
    assert 'weights_only' not in str(err.value)
    assert safe_checkpoint.TRUST_ENV not in str(err.value)


def test_torch_allow_list_extras_are_refused():
    """Every global torch's weights-only loader admits (its defaults and
    what ``import torch.distributed.tensor`` registers) is either in
    mmieee's list or refused by name; mmieee's list adds only numpy data
    types and mmengine's HistoryBuffer."""
    import torch.distributed.tensor  # noqa: F401 (registers DTensor & co)
    from torch._weights_only_unpickler import (_get_allowed_globals,
                                               _get_user_allowed_globals)
    ours = safe_checkpoint.checkpoint_globals()
    torch_names = set(_get_allowed_globals()) | set(
        _get_user_allowed_globals())
    for name in ('torch.distributed.device_mesh.DeviceMesh',
                 'torch.distributed.tensor.DTensor',
                 'torch.distributed.tensor.placement_types.Shard',
                 'torch.distributed.tensor.placement_types.Replicate',
                 'torch.distributed.tensor.placement_types.Partial',
                 'torch._tensor._rebuild_from_type_v2',
                 'torch._utils._rebuild_wrapper_subclass',
                 'torch._utils._rebuild_sparse_tensor'):
        assert name in torch_names, name  # torch does admit it
        assert safe_checkpoint.refusal_reason(name) is not None, name
    for name in torch_names - set(ours):
        assert safe_checkpoint.refusal_reason(name) is not None, name
    extra = {n for n in ours if n not in torch_names}
    assert all(n.startswith('numpy.') for n in extra - {
        'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr'
    }), extra


def test_legacy_format_loads_and_its_payloads_are_refused(tmp_path):
    good = tmp_path / 'legacy.pth'
    torch.save(_mmengine_like(), good, _use_new_zipfile_serialization=False)
    loaded = CheckpointLoader.load_checkpoint(str(good))
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'legacy_evil.pth'
    torch.save(_mmengine_like(x=_Plain(marker)), evil,
               _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeCheckpointError, match='builtins.eval'):
        CheckpointLoader.load_checkpoint(str(evil))
    assert not marker.exists()


def test_loaded_arrays_and_buffers_are_the_plain_types(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    torch.save(_mmengine_like(), path)
    loaded = CheckpointLoader.load_checkpoint(str(path))
    assert type(loaded['meta']['arr']) is np.ndarray
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert type(buf) is HistoryBuffer
    assert type(buf._log_history) is np.ndarray


def test_offline_message_gives_the_advice_first(hub_dir, monkeypatch):
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    url = f'http://127.0.0.1:{port}/resnet50-0676ba61.pth'
    with pytest.raises(CheckpointDownloadError) as err:
        CheckpointLoader.load_checkpoint(url)
    msg = str(err.value)
    advice = msg.index('put it at')
    assert advice < msg.index('URLError') and advice < 200
