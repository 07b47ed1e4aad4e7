# Copyright (c) mmieee contributors.
"""A missing optional package is named with the install command the docs
recommend."""
import sys

import pytest

from mmieee.utils import ConfigError
from mmieee.utils.optional_packages import OPTIONAL_PACKAGES, require_package


def test_missing_package_names_its_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pytorch_grad_cam', None)
    with pytest.raises(ConfigError, match=r'Grad-CAM maps \(--grad-cam\) '
                       r"needs the optional package 'pytorch_grad_cam'.*"
                       'pip install --no-deps grad-cam ttach tqdm'):
        require_package('pytorch_grad_cam')
    require_package('matplotlib')  # installed by the vis extra


def test_every_extra_command_names_a_setup_extra():
    from pathlib import Path
    setup = (Path(__file__).resolve().parents[2] / 'setup.py').read_text()
    for what, install in OPTIONAL_PACKAGES.values():
        if '-e ".[' in install:
            extra = install.split('[')[1].split(']')[0]
            assert f"'{extra}'" in setup, (what, install)
