# Copyright (c) mmieee contributors.
"""atomic_write: a failed write (a full disk) names the file and leaves no
temporary file."""
import errno
import os

import pytest

from mmieee.utils import OutputWriteError, atomic_file


def test_a_failed_write_names_the_file_and_leaves_no_partial(
        tmp_path, monkeypatch):
    """A full disk during an atomic write (e.g. a checkpoint save)."""
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic_file.os, 'fsync', full)
    target = tmp_path / 'epoch_3.pth'
    with pytest.raises(OutputWriteError) as err:
        atomic_file.atomic_write(b'x' * 100, target)
    assert str(err.value) == f'could not write {target}: ' \
        'No space left on device'
    assert list(tmp_path.iterdir()) == []
