# Copyright (c) mmieee contributors.
"""mmieee/utils/official_checkpoint.py: what the official-checkpoint
converters share. Each error names the file (and the key) and is a user
error, so that a converter reports it as one ``Error:`` line."""
import errno
import os
import pickle
from collections import OrderedDict

import pytest
import torch

from mmieee.utils import (USER_ERRORS, ConfigError, NotACheckpointError,
                          OutputWriteError, UnknownKeyError, atomic_file,
                          exit_on_user_error, official_checkpoint)
from mmieee.utils.official_checkpoint import (load_official_state_dict,
                                              naming_source, require_converted,
                                              save_converted_checkpoint,
                                              strip_module_prefix,
                                              unknown_keys_error)
from mmieee.version import __version__

WEIGHTS = OrderedDict(a=torch.ones(2), b=torch.zeros(1, 3))


def _equal(got, expected) -> bool:
    return list(got) == list(expected) and all(
        torch.equal(got[k], v) for k, v in expected.items())


@pytest.mark.parametrize('wrapper', [None, 'state_dict', 'model'])
def test_state_dict_is_unwrapped(tmp_path, wrapper):
    """A bare state dict, torchreid's / mmengine's ``state_dict`` and a
    ``model`` entry all give the weights (other entries ignored)."""
    path = tmp_path / 'official.pth'
    torch.save(WEIGHTS if wrapper is None else {
        wrapper: WEIGHTS, 'epoch': 60, 'rank1': 0.47}, path)
    assert _equal(load_official_state_dict(str(path)), WEIGHTS)


def test_missing_file_is_named(tmp_path):
    path = str(tmp_path / 'model.pth.tar-60')
    with pytest.raises(ConfigError) as err:
        load_official_state_dict(path)
    assert str(err.value) == f'checkpoint {path!r} does not exist'


def test_first_non_tensor_key_is_named(tmp_path):
    path = tmp_path / 'mixed.pth'
    torch.save({'state_dict': {'a': torch.ones(1), 'epoch': 3,
                               'note': 'x'}}, path)
    with pytest.raises(NotACheckpointError) as err:
        load_official_state_dict(str(path))
    assert str(err.value) == (f"{path} (its 'state_dict') is not a state "
                              "dict of tensors: key 'epoch' holds a int")
    # a wrapper that is no dict is not unwrapped, and is named itself
    torch.save({'state_dict': [torch.ones(1)], 'a': torch.ones(1)}, path)
    with pytest.raises(NotACheckpointError,
                       match="key 'state_dict' holds a list"):
        load_official_state_dict(str(path))


def test_empty_state_dict_is_refused(tmp_path):
    path = tmp_path / 'empty.pth'
    torch.save({'state_dict': {}}, path)
    with pytest.raises(NotACheckpointError, match='holds no tensor'):
        load_official_state_dict(str(path))


def test_module_prefix_is_removed_in_order():
    out = strip_module_prefix(
        OrderedDict([('module.b', WEIGHTS['b']), ('a', WEIGHTS['a'])]),
        'x.pth')
    assert list(out) == ['b', 'a']
    assert out['b'] is WEIGHTS['b']


def test_prefix_collision_names_both_keys_and_the_file():
    with pytest.raises(ConfigError) as err:
        strip_module_prefix({'a.weight': torch.ones(1),
                             'module.a.weight': torch.ones(1)}, 'twice.pth')
    assert str(err.value) == ('twice.pth holds both "a.weight" and '
                              '"module.a.weight"; it is ambiguous which to '
                              'keep')


def test_unknown_keys_error_lists_keys_and_is_a_user_error(capsys):
    keys = [f'extra.{i}' for i in range(23)]
    err = unknown_keys_error(keys, 'x.pth', 'the official IEEE layout',
                             'Pass --allow-unknown to drop them.')
    assert isinstance(err, UnknownKeyError)
    assert isinstance(err, USER_ERRORS)
    assert err.keys == keys
    listed = ', '.join(keys[:official_checkpoint.MAX_LISTED_KEYS])
    assert str(err) == ('23 key(s) of x.pth are not in the official IEEE '
                        f'layout: {listed} and 3 more. Pass --allow-unknown '
                        'to drop them.')
    copy = pickle.loads(pickle.dumps(err))  # e.g. across worker processes
    assert str(copy) == str(err) and copy.keys == keys
    with pytest.raises(SystemExit) as exit_info, exit_on_user_error():
        raise unknown_keys_error(['k'], 'y.pth', 'the layout')
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == \
        'Error: 1 key(s) of y.pth are not in the layout: k\n'


def test_naming_source_names_the_file_of_a_mapping_error():
    with pytest.raises(ConfigError) as err, naming_source('x.pth'):
        raise ValueError('REM.0.conv_part.weight: shape (4, 4, 3, 3)')
    assert str(err.value) == 'x.pth: REM.0.conv_part.weight: shape ' \
        '(4, 4, 3, 3)'
    # user errors name the file already and pass unchanged
    original = unknown_keys_error(['k'], 'x.pth', 'the layout')
    with pytest.raises(UnknownKeyError) as err, naming_source('x.pth'):
        raise original
    assert err.value is original
    with pytest.raises(TypeError), naming_source('x.pth'):  # a bug stays
        raise TypeError('not a user error')


def test_nothing_converted_is_refused():
    require_converted(WEIGHTS, 2, 'x.pth', 'the layout')
    with pytest.raises(ConfigError, match='nothing to convert: none of the '
                       '4 keys of x.pth belongs to the layout'):
        require_converted({}, 4, 'x.pth', 'the layout')


def test_save_is_atomic(tmp_path, monkeypatch):
    dst = tmp_path / 'sub' / 'out.pth'
    save_converted_checkpoint(str(dst), WEIGHTS, dict(source='x.pth'))
    out = torch.load(dst, weights_only=True)
    assert _equal(out['state_dict'], WEIGHTS)
    assert out['meta'] == dict(source='x.pth', mmieee_version=__version__)
    before = dst.read_bytes()

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic_file.os, 'fsync', full)
    with pytest.raises(OutputWriteError,
                       match=f'could not write {dst}: No space left'):
        save_converted_checkpoint(str(dst), {'c': torch.ones(5)}, {})
    # the previous file is intact and no temporary file is left
    assert dst.read_bytes() == before
    assert os.listdir(dst.parent) == ['out.pth']
