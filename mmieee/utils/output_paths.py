# Copyright (c) mmieee contributors.
"""Check where a tool will write before its long work, and name the file
when a write fails.

Without these checks ``tools/test.py --out /read-only/m.json`` evaluates the
whole test set and then ends in a traceback; ``--out`` naming a folder, or a
disk filling up, gives an ``OSError`` that names no file. Every user tool
checks its output options with :func:`check_output_file` /
:func:`check_output_dir` right after parsing them, and writes through
:func:`writing`, which turns an ``OSError`` into
:class:`~.errors.OutputWriteError` naming the file.

The check tries what the write will do (create the folder, create and
delete a file in it) instead of asking ``os.access``, which says yes to
``root`` for folders it then cannot write (read-only mounts aside).
"""
import contextlib
import os
import os.path as osp
import tempfile
from typing import Iterator, Optional, Sequence

from .errors import ConfigError, OutputWriteError


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _nearest_existing(path: str) -> str:
    path = osp.abspath(path)
    while not osp.exists(path):
        parent = osp.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _probe_folder(folder: str, option: str, path: str) -> None:
    """Create ``folder`` (as the write will) and a file in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix='.mmieee-probe-'):
            pass
    except OSError as err:
        where = _nearest_existing(folder)
        raise OutputWriteError(
            f'{option} {path}: cannot write in {where} ({_reason(err)}); '
            'choose a folder you can write to') from err


def check_output_file(path: Optional[str], option: str,
                      suffixes: Optional[Sequence[str]] = None) -> None:
    """Check that ``path`` can be written as a file.

    Args:
        path (str, optional): The output file (None: nothing to check).
        option (str): The option that named it, e.g. ``'--out'``.
        suffixes (Sequence[str], optional): Accepted file name endings.

    Raises:
        ConfigError: ``path`` is a folder, or has another suffix.
        OutputWriteError: Its folder cannot be created or written (the
            message names the folder and the reason).
    """
    if path is None:
        return
    path = str(path)
    if osp.isdir(path) or path.endswith(os.sep):
        raise ConfigError(
            f'{option} {path} is a folder; give a file name, e.g. '
            f'{osp.join(path, "out" + (suffixes[0] if suffixes else ""))}')
    if suffixes and not path.lower().endswith(tuple(suffixes)):
        raise ConfigError(f'{option} {path} must end with one of '
                          f'{", ".join(suffixes)}')
    if osp.exists(path) and not os.access(path, os.W_OK):
        raise OutputWriteError(f'{option} {path} exists and cannot be '
                               'overwritten (permission denied)')
    _probe_folder(osp.dirname(osp.abspath(path)), option, path)


def check_output_dir(path: Optional[str], option: str) -> None:
    """Check that ``path`` is (or can be created as) a writable folder.

    Raises:
        ConfigError: ``path`` is a file.
        OutputWriteError: It cannot be created or written in.
    """
    if path is None:
        return
    path = str(path)
    if osp.exists(path) and not osp.isdir(path):
        raise ConfigError(f'{option} {path} is a file; give a folder')
    _probe_folder(osp.abspath(path), option, path)


@contextlib.contextmanager
def writing(path: str) -> Iterator[None]:
    """Turn an ``OSError`` of the enclosed write into
    :class:`~.errors.OutputWriteError` naming ``path``."""
    try:
        yield
    except OutputWriteError:
        raise
    except OSError as err:
        raise OutputWriteError(
            f'could not write {path}: {_reason(err)}') from err


def write_rgb_image(path: str, image) -> str:
    """Write an (H, W, 3) uint8 RGB image (its folder is created).

    Raises:
        OutputWriteError: The file cannot be written; the message names it
            (OpenCV's writer only returns False).
    """
    import mmcv
    import numpy as np
    with writing(path):
        if not mmcv.imwrite(np.ascontiguousarray(image[..., ::-1]), path):
            raise OSError('OpenCV could not encode or write the image')
    return path
