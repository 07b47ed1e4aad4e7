# Copyright (c) mmieee contributors.
"""Model names: the ``Name`` entries of ``configs/*/metafile.yml``.

The metafiles follow mmpretrain's format (``Models:`` entries with ``Name``,
``Config``, ``Metadata``, ``Results`` and, for published weights,
``Weights``). Every entry point that takes a config also takes such a
name: the user tools through :func:`resolve_config` (called by
:func:`~.tool_setup.load_tool_config`), ``init_model`` and
:class:`MultiModalReIDInferencer` through :func:`resolve_model`::

    init_model('ieee_r18_1xb16-8e_synthetic-demo', 'epoch_8.pth')
    python tools/train.py ieee_r18_1xb16-8e_synthetic-demo

The metafiles are read with ``yaml.safe_load`` (``mmengine.load`` uses
PyYAML's full loader, which can build Python objects a file names).

Why not mmengine's ``BaseInferencer._load_model_from_metafile``: it looks for
a ``model-index.yml`` in the repository or in a ``.mim`` folder of an
installed package and requires a ``Weights`` entry; mmieee keeps its configs
in the repository (editable install) and publishes no weights yet, so a name
goes with a local checkpoint.
"""
import difflib
import os.path as osp
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import yaml
from mmengine.config import Config

from .errors import ConfigError

#: The repository root (``configs/`` lives there; editable install).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where the metafiles are searched: ``configs/<algorithm>/metafile.yml``.
CONFIGS_DIR = REPO_ROOT / 'configs'


def metafile_paths() -> List[Path]:
    """The metafiles of the repository, sorted."""
    return sorted(CONFIGS_DIR.glob('*/metafile.yml'))


def load_model_index() -> Dict[str, dict]:
    """Every model of the metafiles, by name.

    Returns:
        dict: ``Name`` → the metafile entry, with ``Config`` made absolute.

    Raises:
        FileNotFoundError: No metafile exists (mmieee is not installed from
            a repository checkout).
        ConfigError: An entry has no ``Name`` / ``Config``, or two entries
            share a name (the message names the metafile).
    """
    paths = metafile_paths()
    if not paths:
        raise FileNotFoundError(
            f'no configs/*/metafile.yml under {CONFIGS_DIR}: model names '
            'need the configs of a repository checkout (pip install -e .)')
    index: Dict[str, dict] = {}
    for path in paths:
        with open(path, encoding='utf-8') as f:
            meta = yaml.safe_load(f) or {}
        for entry in meta.get('Models') or []:
            name, config = entry.get('Name'), entry.get('Config')
            if not name or not config:
                raise ConfigError(f'{path}: a model entry lacks Name or '
                                  f'Config: {entry!r}')
            if name in index:
                raise ConfigError(f'{path}: model name {name!r} is listed '
                                  'twice')
            entry = dict(entry)
            entry['Config'] = str(REPO_ROOT / config)
            entry['Metafile'] = str(path)
            index[name] = entry
    return index


def list_models() -> List[str]:
    """Names of all models of the metafiles, sorted."""
    return sorted(load_model_index())


def is_model_name(config: object) -> bool:
    """Whether ``config`` should be looked up as a model name: a string
    that is not an existing file and does not end with ``.py``."""
    return isinstance(config, str) and not osp.isfile(config) \
        and not config.endswith('.py')


def _entry(name: str) -> dict:
    """The metafile entry of a model name.

    Raises:
        ConfigError: An unknown name; the message lists the close names and
            every known one.
    """
    index = load_model_index()
    entry = index.get(name)
    if entry is None:
        close = difflib.get_close_matches(name, list(index), n=3)
        hint = f' Did you mean {", ".join(close)}?' if close else ''
        raise ConfigError(
            f'{name!r} is neither a config file nor a model name of '
            f'{", ".join(osp.relpath(p, REPO_ROOT) for p in metafile_paths())}'
            f'.{hint} Known names: {", ".join(sorted(index))}.')
    return entry


def resolve_config(config: Union[str, Path]) -> str:
    """The config file of a config path or a metafile model name.

    Args:
        config (str | Path): Config file, or a model name.

    Returns:
        str: ``config`` itself, or the name's config file.

    Raises:
        ConfigError: An unknown name (see :func:`resolve_model`).
    """
    if not is_model_name(str(config)):
        return str(config)
    return _entry(str(config))['Config']


def resolve_model(
    config: Union[str, Path, Config],
    checkpoint: Optional[str] = None
) -> Tuple[Union[str, Path, Config], Optional[str]]:
    """Turn a metafile model name into its config file (and weights).

    Anything that is not a model name (a :class:`Config`, an existing file,
    a path ending with ``.py``) is returned unchanged.

    Args:
        config (str | Path | Config): Config file, Config or model name.
        checkpoint (str, optional): Local weights. With a model name and no
            checkpoint, the entry's ``Weights`` is used; an entry without
            one is an error (nothing is initialised at random silently).

    Returns:
        tuple: ``(config, checkpoint)``, the config as a file path for a
        model name.

    Raises:
        ConfigError: An unknown name (the message lists close names and
            every known one), or a name without ``Weights`` and no
            checkpoint.
    """
    if not is_model_name(config):
        return config, checkpoint
    entry = _entry(config)
    if checkpoint is None:
        weights = entry.get('Weights')
        if not weights:
            raise ConfigError(
                f'model {config!r} has no published weights (no Weights '
                f'entry in {osp.relpath(entry["Metafile"], REPO_ROOT)}); '
                'pass a local checkpoint, e.g. one trained with '
                f'tools/train.py {osp.relpath(entry["Config"], REPO_ROOT)}')
        checkpoint = weights
    return entry['Config'], checkpoint
