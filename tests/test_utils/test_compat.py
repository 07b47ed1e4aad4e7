# Copyright (c) mmieee contributors.
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

import mmieee
from mmieee.utils import checkpoint_compat
from mmieee.utils.torchvision_compat import patch_torchvision_import


def test_torchvision_imports_after_shim():
    import torchvision  # noqa: F401

    # a second call finds torchvision importable and does nothing
    assert patch_torchvision_import() is False


def test_mmengine_checkpoint_with_history_buffer_loads(tmp_path):
    buf = HistoryBuffer()
    buf.update(0.5)
    ckpt = dict(
        state_dict={'w': torch.ones(2)},
        message_hub=dict(log_scalars={'loss': buf}),
        meta=dict(arr=np.arange(3), seed=1))
    path = tmp_path / 'epoch_1.pth'
    torch.save(ckpt, path)
    loaded = CheckpointLoader.load_checkpoint(str(path))
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 0.5
    np.testing.assert_array_equal(loaded['meta']['arr'], np.arange(3))


class _Untrusted:

    def __reduce__(self):
        return (print, ('should never run', ))


def test_untrusted_checkpoint_is_refused_with_clear_message(
        tmp_path, monkeypatch):
    path = tmp_path / 'evil.pth'
    torch.save({'x': _Untrusted()}, path)
    monkeypatch.delenv(checkpoint_compat.TRUST_ENV, raising=False)
    with pytest.raises(pickle.UnpicklingError) as err:
        CheckpointLoader.load_checkpoint(str(path))
    assert str(path) in str(err.value)
    assert checkpoint_compat.TRUST_ENV in str(err.value)


def test_missing_checkpoint_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'nope.pth'))


def test_version_check_names_package(monkeypatch):
    monkeypatch.setattr(mmieee, '_installed_version', lambda name: '0.0.1')
    with pytest.raises(ImportError, match='mmengine'):
        mmieee._check_dependencies()


class _CallsWhatGetattrFetched:
    """Fetches a method through the allow-listed ``getattr`` and calls it."""

    def __reduce__(self):
        return (getattr(np.dtype, 'mro'), ())


def test_allowed_getattr_cannot_be_used_to_call_code(tmp_path, monkeypatch):
    path = tmp_path / 'sneaky.pth'
    torch.save({'x': _CallsWhatGetattrFetched()}, path)
    monkeypatch.delenv(checkpoint_compat.TRUST_ENV, raising=False)
    with pytest.raises(pickle.UnpicklingError, match='sneaky.pth'):
        CheckpointLoader.load_checkpoint(str(path))
