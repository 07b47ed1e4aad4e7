# Copyright (c) mmieee contributors.
"""mmieee: multi-modal object re-identification on mmengine / mmpretrain.

Importing the package checks the versions of the OpenMMLab stack it was
written against and applies the environment shims of ``mmieee.utils`` (each
one a no-op where it is not needed) before any mmpretrain model is imported.
"""
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

from .version import __version__, version_info

# (distribution, minimum inclusive, maximum exclusive, import name)
_REQUIREMENTS = (
    # 2.6: the weights-only unpickler and safe_globals the loader builds on
    ('torch', '2.6.0', '3.0.0'),
    ('mmengine', '0.10.0', '1.0.0'),
    ('mmcv', '2.0.0', '2.4.0'),
    ('mmpretrain', '1.0.0', '2.0.0'),
)
_INSTALL_HINT = ('Install the pinned stack with `bash tools/install.sh` or '
                 '`pip install -r requirements.txt` (see '
                 'docs/get_started.md, "Installation").')


def _installed_version(name: str) -> str:
    candidates = {'mmcv': ('mmcv', 'mmcv-lite')}.get(name, (name, ))
    for dist in candidates:
        try:
            return _dist_version(dist)
        except PackageNotFoundError:
            continue
    raise ImportError(f'mmieee needs {name}, which is not installed. '
                      f'{_INSTALL_HINT}')


def _check_dependencies() -> None:
    from mmengine.utils import digit_version
    for name, low, high in _REQUIREMENTS:
        have = _installed_version(name)
        if not digit_version(low) <= digit_version(have) < digit_version(
                high):
            raise ImportError(
                f'mmieee {__version__} needs {low} <= {name} < {high}, but '
                f'{name}=={have} is installed. {_INSTALL_HINT}')


_check_dependencies()

from .utils import apply_compat_shims  # noqa: E402

apply_compat_shims()

__all__ = ['__version__', 'version_info']
