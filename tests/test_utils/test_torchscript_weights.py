# Copyright (c) mmieee contributors.
"""TorchScript archives are read to their state dict without running
anything from them: equal to ``torch.jit.load(path).state_dict()`` on
archives torch wrote, refusing any other object the pickle names."""
import io
import os
import pickle
import zipfile

import pytest
import torch

from mmieee.testing.clip_files import (random_openai_clip_state_dict,
                                       save_openai_clip_archive)
from mmieee.utils.errors import NotACheckpointError, UnsafeCheckpointError
from mmieee.utils.torchscript_weights import (is_torchscript_archive,
                                              read_torchscript_state_dict)


def _assert_same(got, expected):
    assert list(got) == list(expected)  # names and order
    for key, value in expected.items():
        assert got[key].dtype == value.dtype, key
        assert torch.equal(got[key], value), key
        assert not got[key].requires_grad


@pytest.fixture
def archive(tmp_path):
    state = random_openai_clip_state_dict(seed=1)
    path = tmp_path / 'ViT-tiny.pt'
    module = save_openai_clip_archive(state, str(path))
    return path, state, module


def test_scripted_openai_layout_reads_back_its_state_dict(archive):
    path, state, module = archive
    got = read_torchscript_state_dict(str(path))
    _assert_same(got, module.state_dict())
    _assert_same(got, state)
    assert got['visual.conv1.weight'].dtype == torch.float16
    assert got['visual.class_embedding'].dtype == torch.float32
    assert got['input_resolution'].dtype == torch.int64
    assert int(got['input_resolution']) == 8
    assert int(got['vocab_size']) == 11


def test_traced_archive_equals_torch_jit_load(tmp_path):
    """OpenAI's files were traced; the reference here is torch's own loader
    on a file this test wrote."""
    path = tmp_path / 'traced.pt'
    save_openai_clip_archive(
        random_openai_clip_state_dict(seed=2, half=False), str(path),
        trace=True)
    _assert_same(read_torchscript_state_dict(str(path)),
                 torch.jit.load(str(path)).state_dict())


def test_only_parameters_and_buffers_no_loader_called(tmp_path, monkeypatch):
    """A plain tensor attribute is not in the state dict (as for torch);
    neither torch.jit.load nor torch.load is called."""

    class WithPlainTensor(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 3)
            self.register_buffer('steps', torch.tensor(4))
            self.scratch = torch.ones(5)

        def forward(self, x):
            return self.fc(x) + self.scratch.sum()

    path = tmp_path / 'plain.pt'
    scripted = torch.jit.script(WithPlainTensor())
    torch.jit.save(scripted, str(path))

    def refuse(*args, **kwargs):
        raise AssertionError('a torch loader was called')

    monkeypatch.setattr(torch.jit, 'load', refuse)
    monkeypatch.setattr(torch, 'load', refuse)
    got = read_torchscript_state_dict(str(path))
    _assert_same(got, scripted.state_dict())
    assert list(got) == ['steps', 'fc.weight', 'fc.bias']


class _System:
    """Pickles as ``os.system(command)``."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command, )


class _Eval:

    def __reduce__(self):
        return eval, ("__import__('os').getcwd()", )


def _with_data_pkl(src, dst, payload: bytes):
    """Copy the archive ``src`` to ``dst`` with another data.pkl."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith('/data.pkl'):
                data = payload
            zout.writestr(item, data)


@pytest.mark.parametrize('make, named', [
    (lambda marker: _System(f'touch {marker}'), 'system'),
    (lambda marker: _Eval(), 'builtin__.eval'),
    (lambda marker: torch.nn.Linear(2, 2), 'torch.nn.modules.linear.Linear'),
    (lambda marker: {'w': collections_counter()}, 'collections.Counter'),
])
def test_pickle_naming_anything_else_is_refused(archive, tmp_path, make,
                                                named):
    src, _, _ = archive
    marker = tmp_path / 'ran'
    bad = tmp_path / 'bad.pt'
    _with_data_pkl(src, bad, pickle.dumps(make(marker), protocol=2))
    assert is_torchscript_archive(str(bad))
    with pytest.raises(UnsafeCheckpointError) as err:
        read_torchscript_state_dict(str(bad))
    msg = str(err.value)
    assert str(bad) in msg and named in msg
    assert 'runs none of their code' in msg
    assert not marker.exists()


def collections_counter():
    import collections
    return collections.Counter(a=1)


def test_custom_class_objects_and_hooks_are_refused(archive, tmp_path):
    src, _, _ = archive
    with zipfile.ZipFile(src) as z:
        name = [n for n in z.namelist() if n.endswith('/data.pkl')][0]
        data = z.read(name)
    custom = data.replace(b'c__torch__.', b'c__torch__.torch.classes.', 1)
    assert custom != data
    bad = tmp_path / 'custom.pt'
    _with_data_pkl(src, bad, custom)
    with pytest.raises(UnsafeCheckpointError, match='C\\+\\+ class'):
        read_torchscript_state_dict(str(bad))
    # a tensor rebuilt with a backward hook: not what a weight has
    hooked = io.BytesIO()

    class Hooked:

        def __reduce__(self):
            storage = ('storage', torch.FloatStorage, '0', 'cpu', 40)
            return torch._utils._rebuild_tensor_v2, (
                _Persistent(storage), 0, (40, ), (1, ), False,
                __import__('collections').OrderedDict(h=1))

    class _Pickler(pickle.Pickler):

        def persistent_id(self, obj):
            return obj.pid if isinstance(obj, _Persistent) else None

    _Pickler(hooked, protocol=2).dump(Hooked())
    bad = tmp_path / 'hooked.pt'
    _with_data_pkl(src, bad, hooked.getvalue())
    with pytest.raises(UnsafeCheckpointError, match='never has'):
        read_torchscript_state_dict(str(bad))


class _Persistent:

    def __init__(self, pid):
        self.pid = pid


def test_broken_archives_name_the_file(archive, tmp_path):
    src, state, _ = archive
    saved = tmp_path / 'saved.pt'
    torch.save(state, saved)  # a torch.save archive, not TorchScript
    assert not is_torchscript_archive(str(saved))
    with pytest.raises(NotACheckpointError, match='not a TorchScript'):
        read_torchscript_state_dict(str(saved))
    text = tmp_path / 'notes.txt'
    text.write_text('hello')
    with pytest.raises(NotACheckpointError, match=str(text)):
        read_torchscript_state_dict(str(text))
    short = tmp_path / 'short.pt'
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(short, 'w') as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith('/data/0'):
                data = data[:-2]
            zout.writestr(item, data)
    with pytest.raises(NotACheckpointError) as err:
        read_torchscript_state_dict(str(short))
    assert str(short) in str(err.value) and "/data/0'" in str(err.value)
