# Copyright (c) mmieee contributors.
"""Load mmengine checkpoints under torch >= 2.6 (``weights_only=True``).

Why: torch 2.6 made ``torch.load`` default to ``weights_only=True``, and
mmengine 0.10.7's local-file loader calls ``torch.load`` without saying
otherwise, so its own checkpoints (which pickle a ``HistoryBuffer`` and numpy
arrays in the message hub) fail to load with ``Unsupported global:
mmengine.logging.history_buffer.HistoryBuffer``: ``--resume``, ``load_from``
and ``tools/test.py`` all break.

What we do instead of simply passing ``weights_only=False`` (which would let a
downloaded checkpoint run arbitrary code): keep the safe unpickler and allow
exactly the extra types mmengine writes. A file that needs anything else is
refused with a message naming the file and the type; a user who trusts that
file can set ``MMIEEE_TRUST_CHECKPOINTS=1`` to load it with the full pickle.

Where torch still defaults to the full unpickler (< 2.6) this does nothing.
"""
import os
import os.path as osp
import pickle

import numpy as np
import torch

TRUST_ENV = 'MMIEEE_TRUST_CHECKPOINTS'


def _safe_globals() -> list:
    """The non-tensor types found in checkpoints written by mmengine."""
    from mmengine.logging.history_buffer import HistoryBuffer

    # HistoryBuffer pickles its statistics methods as bound methods, which
    # pickle spells ``getattr(buffer, 'min')``. The safe unpickler still only
    # *calls* allow-listed callables, so ``getattr`` can fetch but not run.
    safe = [HistoryBuffer, getattr, np.ndarray, np.dtype]
    try:  # numpy >= 1.25 moved the reconstructor to numpy._core
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - old numpy
        from numpy.core.multiarray import _reconstruct, scalar
    safe += [_reconstruct, scalar]
    # dtype classes (np.dtypes.Float64DType, ...) pickled with arrays
    safe += [getattr(np.dtypes, n) for n in dir(np.dtypes)
             if n.endswith('DType')]
    return safe


def load_local_checkpoint(filename: str, map_location=None):
    """Load a local checkpoint with torch's safe unpickler plus mmengine types.

    Args:
        filename (str): Path of the checkpoint.
        map_location: As for :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: If ``filename`` is not a file.
        pickle.UnpicklingError: If the file holds a type outside the
            allow-list (the message names the file, the type and
            ``MMIEEE_TRUST_CHECKPOINTS``).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if os.environ.get(TRUST_ENV, '0') == '1':
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    try:
        with torch.serialization.safe_globals(_safe_globals()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as err:
        raise pickle.UnpicklingError(
            f'Refusing to unpickle checkpoint "{filename}": it contains '
            f'objects outside the types mmieee allows ({err}). If you trust '
            f'this file, set {TRUST_ENV}=1 to load it with the full '
            'pickle loader.') from err


def patch_mmengine_checkpoint_loader() -> bool:
    """Register :func:`load_local_checkpoint` as mmengine's local loader.

    Returns:
        bool: True if registered, False where torch needs no help.
    """
    from mmengine.utils import digit_version
    if digit_version(torch.__version__.split('+')[0]) < digit_version('2.6'):
        return False
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
    return True
