# Copyright (c) mmieee contributors.
from .checkpoint_compat import (load_local_checkpoint,
                                patch_mmengine_checkpoint_loader)
from .setup_env import register_all_modules
from .torchvision_compat import patch_torchvision_import


def apply_compat_shims() -> None:
    """Apply every environment shim; each is a no-op where not needed."""
    patch_torchvision_import()
    patch_mmengine_checkpoint_loader()


__all__ = [
    'apply_compat_shims', 'load_local_checkpoint',
    'patch_mmengine_checkpoint_loader', 'patch_torchvision_import',
    'register_all_modules'
]
