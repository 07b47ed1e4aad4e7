# Copyright (c) mmieee contributors.
import pytest

import mmieee
from mmieee.utils.torchvision_compat import patch_torchvision_import


def test_torchvision_imports_after_shim():
    import torchvision  # noqa: F401

    # a second call finds torchvision importable and does nothing
    assert patch_torchvision_import() is False


def test_version_check_names_package(monkeypatch):
    real = mmieee._installed_version
    monkeypatch.setattr(mmieee, '_installed_version',
                        lambda name: '0.0.1' if name == 'mmengine' else
                        real(name))
    with pytest.raises(ImportError, match='mmengine==0.0.1'):
        mmieee._check_dependencies()
