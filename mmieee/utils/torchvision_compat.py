# Copyright (c) mmieee contributors.
"""Make ``import torchvision`` work with a CPU build of torch.

Why: mmpretrain's model package imports torchvision. For torch 2.13 the only
torchvision wheel (0.28.0) is CUDA-built; with a CPU torch its compiled
extension does not load, and the import then fails in torchvision's own
fake-kernel registration with ``RuntimeError: operator torchvision::nms does
not exist``. Declaring the two operator schemas it registers against lets the
pure-Python parts (everything mmpretrain needs) import. The compiled ops
themselves stay unavailable; nothing in mmieee calls them.

Where torchvision imports normally this does nothing.
"""
import importlib
import importlib.util
import sys

# Schemas torchvision's python code refers to at import time.
_MISSING_OP_SCHEMAS = (
    'nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
    'qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
)
_library = None  # keep the Library object alive: its definitions live with it


def _purge_torchvision() -> None:
    for name in [m for m in sys.modules
                 if m == 'torchvision' or m.startswith('torchvision.')]:
        del sys.modules[name]


def patch_torchvision_import() -> bool:
    """Import torchvision, declaring its missing op schemas if it needs them.

    Returns:
        bool: True if the shim had to act, False if torchvision imported
        normally or is not installed.
    """
    global _library
    if importlib.util.find_spec('torchvision') is None:
        return False
    try:
        importlib.import_module('torchvision')
        return False
    except RuntimeError as err:
        if 'torchvision::' not in str(err) or _library is not None:
            raise
    _purge_torchvision()
    import torch
    _library = torch.library.Library('torchvision', 'FRAGMENT')
    for schema in _MISSING_OP_SCHEMAS:
        _library.define(schema)
    importlib.import_module('torchvision')
    return True
