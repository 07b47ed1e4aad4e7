# Copyright (c) mmieee contributors.
"""The optional packages of the tools, and how each is installed.

A tool that needs one checks it before any work (:func:`require_package`)
and names the install command the docs recommend: the extras of setup.py
(``pip install -e ".[vis]"``, ``".[deploy]"``), and for Grad-CAM the
``--no-deps`` install (the ``grad-cam`` wheel pulls opencv-python-headless
beside opencv-python, two packages writing the same ``cv2`` module).
"""
import importlib

from .errors import ConfigError

#: import name -> (what needs it, the install command docs/ recommends).
OPTIONAL_PACKAGES = {
    'matplotlib': ('the visualisation tools', 'pip install -e ".[vis]"'),
    'sklearn': ('t-SNE (scikit-learn)', 'pip install -e ".[vis]"'),
    'onnx': ('ONNX export', 'pip install -e ".[deploy]"'),
    'onnxruntime': ('ONNX verification', 'pip install -e ".[deploy]"'),
    'faiss': ("the inferencer's faiss backend", 'pip install -e ".[deploy]"'),
    'pytorch_grad_cam': ('Grad-CAM maps (--grad-cam)',
                         'pip install --no-deps grad-cam ttach tqdm'),
}


def require_package(name: str) -> None:
    """Raise ``ConfigError`` with the install command when ``name`` cannot
    be imported.

    Args:
        name (str): An import name of :data:`OPTIONAL_PACKAGES`.
    """
    what, install = OPTIONAL_PACKAGES[name]
    try:
        importlib.import_module(name)
    except ImportError:
        raise ConfigError(
            f'{what} needs the optional package {name!r}, which is not '
            f'installed: {install} (see docs/get_started.md)') from None
