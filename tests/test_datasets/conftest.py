# Copyright (c) mmieee contributors.
"""Fixtures for the dataset tests: tiny image trees in tmp_path."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

import mmieee  # noqa: F401


@pytest.fixture
def write_files():
    """Return ``write(root, rel_paths)`` writing a tiny 16x8 JPEG at each
    ``root/rel_path`` (folders created); returns the absolute paths."""
    ok, buf = cv2.imencode('.jpg', np.full((16, 8, 3), 128, np.uint8))
    assert ok
    data = buf.tobytes()

    def write(root, rel_paths):
        out = []
        for rel in rel_paths:
            path = osp.join(str(root), rel)
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'wb') as f:
                f.write(data)
            out.append(path)
        return out

    return write


@pytest.fixture
def triplets(write_files):
    """Return ``make(root, split_folder, names, modalities=('RGB','NI','TI'))``
    writing the same file names in every modality folder."""

    def make(root, split_folder, names, modalities=('RGB', 'NI', 'TI')):
        return write_files(
            root, [f'{split_folder}/{m}/{n}' for n in names
                   for m in modalities])

    return make
