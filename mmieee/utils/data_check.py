# Copyright (c) mmieee contributors.
"""Fail fast, with directions, when a config's dataset is not on disk.

Building the Runner
builds the three-stream model (and, for training, may download ImageNet
weights) before any dataset is read; a user who has not downloaded RGBNT201
yet would wait for that and then get a traceback. ``check_data_roots`` looks
at the ``data_root`` of every dataset of the chosen dataloaders first and
raises :class:`DatasetNotFoundError` naming the folder it looked in, the
expected layout and where the dataset is obtained (both read from the dataset
class's ``LAYOUT``, a :class:`~mmieee.datasets.DatasetLayout`), how to
point the config elsewhere, and the commands that generate and train on the
synthetic demo set.
"""
import os.path as osp
from typing import Iterator, Sequence, Tuple

from mmengine.config import Config

from mmieee.registry import DATASETS

from .errors import DatasetNotFoundError

#: Shown in every "dataset not found" message.
SYNTHETIC_HINT = (
    'To try mmieee without downloading anything, generate the synthetic '
    'RGBNT201-format demo set and train on it:\n'
    '  python tools/dataset_converters/generate_synthetic.py data/synthetic\n'
    '  python tools/train.py configs/ieee/ieee_r18_1xb16-8e_synthetic-demo.py')

DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def iter_dataset_cfgs(cfg: Config,
                      keys: Sequence[str] = DATALOADER_KEYS
                      ) -> Iterator[Tuple[str, dict]]:
    """Yield ``(dotted key, dataset config)`` of the given dataloaders.

    Dataset wrappers (``dataset=`` of RepeatDataset / ClassBalancedDataset,
    ``datasets=`` of ConcatDataset) are followed to the datasets they wrap.

    Args:
        cfg (Config): The full config.
        keys (Sequence[str]): Dataloader keys to inspect; missing or None
            ones are skipped.

    Yields:
        tuple[str, dict]: E.g. ``('train_dataloader.dataset', {...})``.
    """
    for key in keys:
        loader = cfg.get(key)
        if not loader or 'dataset' not in loader:
            continue
        stack = [(f'{key}.dataset', loader['dataset'])]
        while stack:
            name, ds = stack.pop(0)
            if not isinstance(ds, dict):
                continue
            yield name, ds
            if isinstance(ds.get('dataset'), dict):
                stack.append((f'{name}.dataset', ds['dataset']))
            for i, sub in enumerate(ds.get('datasets') or ()):
                stack.append((f'{name}.datasets.{i}', sub))


def _dataset_hint(type_name) -> str:
    """Expected layout and source of a dataset class, when it says them."""
    cls = type_name if isinstance(type_name, type) else None
    if cls is None and isinstance(type_name, str):
        try:
            cls = DATASETS.get(type_name)
        except Exception:  # an unknown type is reported when it is built
            cls = None
    layout = getattr(cls, 'LAYOUT', None)
    if not hasattr(layout, 'describe'):
        return ''
    return (f'Expected layout:\n{layout.describe()}\n'
            f'{layout.dataset_name} is obtained {layout.source} '
            '(see docs/datasets.md).')


def check_data_roots(cfg: Config,
                     keys: Sequence[str] = DATALOADER_KEYS) -> None:
    """Raise :class:`DatasetNotFoundError` if a ``data_root`` is missing.

    Only datasets that set ``data_root`` are checked; the split folders and
    files are checked by the dataset itself when it is built.

    Args:
        cfg (Config): The full config.
        keys (Sequence[str]): Dataloaders whose datasets are checked.

    Raises:
        DatasetNotFoundError: With the folder looked in (as written and
            absolute), the dataset's layout and source, the ``--cfg-options``
            that change it, and the synthetic demo commands.
    """
    for name, ds in iter_dataset_cfgs(cfg, keys):
        root = ds.get('data_root')
        if root is None or osp.isdir(root):
            continue
        type_name = ds.get('type')
        label = getattr(type_name, '__name__', type_name)
        overrides = ' '.join(f'{k}.dataset.data_root=PATH' for k in keys
                             if cfg.get(k))
        # what to do comes right after what is wrong; the layout follows
        parts = [
            f'{label} dataset not found: {name}.data_root is {root!r} '
            f'({osp.abspath(root)}), which does not exist.',
            'Put the dataset there (a symbolic link is fine), or point the '
            f'config at it with\n  --cfg-options {overrides}',
            _dataset_hint(type_name),
            SYNTHETIC_HINT,
        ]
        raise DatasetNotFoundError('\n'.join(p for p in parts if p))
