# Copyright (c) mmieee contributors.
"""Write files so that a crash never leaves a half-written one in place.

Why: mmengine's local storage backend writes a checkpoint straight into its
final name; a run killed while a (hundreds of MB) checkpoint is written
leaves a truncated file that ``--resume`` then fails on. Here the bytes go
to a temporary file in the same folder, are flushed to disk, and the file is
renamed into place (``os.replace`` is atomic on POSIX and Windows): the
final name holds either the old complete file or the new complete one.

:class:`AtomicLocalBackend` is mmengine's ``LocalBackend`` with this
``put``; it is registered as the fileio backend ``'atomic_local'`` and
:class:`~mmieee.engine.ReIDCheckpointHook` saves through it.
:func:`atomic_torch_save` is ``torch.save`` with the same guarantee (the
official-checkpoint converters write through it).
"""
import os
import os.path as osp
import re
from pathlib import Path
from typing import BinaryIO, Callable, Optional, Union

import torch
from mmengine.fileio import LocalBackend, register_backend

from .output_paths import writing

#: Temporary files are named ``.<final name>.partial-<pid>``.
PARTIAL_MARK = '.partial-'


def partial_name(name: str, pid: Optional[int] = None) -> str:
    """``.<name>.partial-<pid>``: the temporary file of a write of
    ``name`` by process ``pid`` (default: this one)."""
    return f'.{name}{PARTIAL_MARK}{os.getpid() if pid is None else pid}'


def partial_owner(name: str) -> Optional[int]:
    """The pid of a temporary file name of :func:`partial_name`, or None
    when ``name`` is not one."""
    match = re.fullmatch(r'\..+' + re.escape(PARTIAL_MARK) + r'(\d+)', name)
    return int(match.group(1)) if match else None


def _write_atomically(filepath: Union[str, Path],
                      write: Callable[[BinaryIO], None]) -> None:
    """Call ``write`` on a temporary file and rename it to ``filepath``.

    Args:
        filepath (str | Path): Destination; its folder is created.
        write (Callable): Writes the content into the open binary file.

    Raises:
        OutputWriteError: The write failed (disk full, permission, ...);
            the message names ``filepath``. The temporary file is removed.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    tmp = osp.join(folder, partial_name(osp.basename(filepath)))
    try:
        with writing(filepath):
            os.makedirs(folder, exist_ok=True)
            with open(tmp, 'wb') as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` atomically.

    Args:
        data (bytes): The content.
        filepath (str | Path): Destination; its folder is created.

    Raises:
        OutputWriteError: The write failed (disk full, permission, ...);
            the message names ``filepath``. The temporary file is removed.
    """
    _write_atomically(filepath, lambda f: f.write(data))


def atomic_torch_save(obj: object, filepath: Union[str, Path]) -> None:
    """``torch.save(obj, filepath)`` atomically (streamed into the
    temporary file, so a large checkpoint is not held twice in memory).

    Args:
        obj (object): What to save, e.g. ``{'state_dict': ..., 'meta': ...}``.
        filepath (str | Path): Destination; its folder is created.

    Raises:
        OutputWriteError: The write failed; the message names ``filepath``.
            The temporary file is removed.
    """
    _write_atomically(filepath, lambda f: torch.save(obj, f))


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local backend whose writes are atomic (see module doc)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes atomically."""
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text atomically."""
        atomic_write(obj.encode(encoding), filepath)
