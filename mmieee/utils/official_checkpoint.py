# Copyright (c) mmieee contributors.
"""What the converters of official checkpoints share.

``tools/model_converters/{ieee,topreid,demo}_official_to_mmieee.py`` each
rename the keys of one official model; around that mapping they do the same
things, here:

* read the official file with mmieee's safe loader, whatever wraps the
  state dict (:func:`load_official_state_dict`);
* remove DataParallel's ``module.`` prefix (:func:`strip_module_prefix`);
* refuse keys outside the official layout by name
  (:func:`unknown_keys_error`) and a conversion that leaves nothing
  (:func:`require_converted`);
* name the file in any error of the mapping (:func:`naming_source`);
* load the result strictly into a config's model (``--check-config``,
  :func:`check_converted_weights`);
* write the result atomically (:func:`save_converted_checkpoint`).

Their command lines share :func:`converter_argument_parser`.

Every error is a user error of :mod:`.errors`, so that a converter wrapped in
:func:`~.tool_setup.exit_on_user_error` reports a bad file as one line
``Error: <message>`` with exit status 2.
"""
import argparse
import contextlib
import os.path as osp
from collections import OrderedDict
from typing import Dict, Iterator, Mapping, Sequence

from mmengine.registry import DefaultScope
from torch import Tensor

from mmieee.registry import MODELS
from mmieee.version import __version__

from .atomic_file import atomic_torch_save
from .errors import (USER_ERRORS, CheckpointMismatchError, ConfigError,
                     NotACheckpointError, UnknownKeyError)
from .load_weights import compare_state_dicts, format_report
from .safe_checkpoint import load_from_local
from .tool_setup import load_tool_config

#: The key prefix ``torch.nn.DataParallel`` adds to a model's state dict.
MODULE_PREFIX = 'module.'

#: Entries of a checkpoint that hold the state dict, in the order looked at
#: (torchreid and mmengine write ``state_dict``; other code ``model``).
WRAPPER_KEYS = ('state_dict', 'model')

#: How many unknown keys a message lists before ``... and N more``.
MAX_LISTED_KEYS = 20


def load_official_state_dict(path: str) -> Dict[str, Tensor]:
    """Read the state dict of an official checkpoint.

    The file is read with mmieee's safe loader (no code from it runs; set
    ``MMIEEE_TRUST_CHECKPOINTS=1`` for a trusted file that holds other
    objects). It may be a bare state dict or a dict holding one as
    ``state_dict`` or ``model`` (other entries, e.g. ``epoch``, are
    ignored).

    Args:
        path (str): The official checkpoint.

    Returns:
        dict[str, Tensor]: The state dict, keys as in the file.

    Raises:
        ConfigError: ``path`` is not a file (the message names it).
        UnsafeCheckpointError: The file needs objects the safe loader
            refuses.
        NotACheckpointError: It is no PyTorch checkpoint, holds no tensor,
            or holds something other than a tensor (the first such key is
            named).
    """
    if not osp.isfile(path):
        raise ConfigError(f'checkpoint {path!r} does not exist')
    ckpt = load_from_local(path, map_location='cpu')
    where = path
    for key in WRAPPER_KEYS:
        if isinstance(ckpt.get(key), dict):
            ckpt, where = ckpt[key], f'{path} (its {key!r})'
            break
    for key, value in ckpt.items():
        if not isinstance(value, Tensor):
            raise NotACheckpointError(
                f'{where} is not a state dict of tensors: key {key!r} holds '
                f'a {type(value).__name__}')
    if not ckpt:
        raise NotACheckpointError(f'{where} holds no tensor')
    return ckpt


def strip_module_prefix(state_dict: Mapping[str, Tensor],
                        source: str) -> 'OrderedDict[str, Tensor]':
    """Remove DataParallel's ``module.`` prefix from every key that has it.

    Args:
        state_dict (Mapping[str, Tensor]): Keys with or without the prefix.
        source (str): Where the state dict came from (a file name), for
            the message.

    Returns:
        OrderedDict[str, Tensor]: The same values in the same order, keys
        without the prefix.

    Raises:
        ConfigError: Two keys differ only by the prefix (both and
            ``source`` are named): it is ambiguous which to keep.
    """
    out: 'OrderedDict[str, Tensor]' = OrderedDict()
    for key, value in state_dict.items():
        new = key[len(MODULE_PREFIX):] if key.startswith(MODULE_PREFIX) \
            else key
        if new in out:
            raise ConfigError(
                f'{source} holds both "{new}" and "{MODULE_PREFIX}{new}"; it '
                'is ambiguous which to keep')
        out[new] = value
    return out


def unknown_keys_error(keys: Sequence[str],
                       source: str,
                       layout: str,
                       hint: str = '') -> UnknownKeyError:
    """The error for keys a converter cannot place.

    Args:
        keys (Sequence[str]): The keys, in the file's order.
        source (str): The file they came from.
        layout (str): What they are not part of, e.g. ``'the official IEEE
            layout'``.
        hint (str): A sentence appended to the message (e.g. the option
            that drops them). Defaults to ''.

    Returns:
        UnknownKeyError: ``'<n> key(s) of <source> are not in <layout>:
        <keys>. <hint>'`` (the first :data:`MAX_LISTED_KEYS` keys listed),
        with all keys as ``keys``.
    """
    listed = ', '.join(keys[:MAX_LISTED_KEYS])
    if len(keys) > MAX_LISTED_KEYS:
        listed += f' and {len(keys) - MAX_LISTED_KEYS} more'
    message = f'{len(keys)} key(s) of {source} are not in {layout}: {listed}'
    return UnknownKeyError(f'{message}. {hint}' if hint else message, keys)


@contextlib.contextmanager
def naming_source(source: str) -> Iterator[None]:
    """Report a ``ValueError`` of the enclosed key mapping (e.g. a tensor of
    an impossible shape) as a :class:`~.errors.ConfigError` that names
    ``source``; user errors pass unchanged (they name it already).

    Args:
        source (str): The file being converted.
    """
    try:
        yield
    except USER_ERRORS:
        raise
    except ValueError as err:
        raise ConfigError(f'{source}: {err}') from err


def require_converted(state_dict: Mapping[str, Tensor], num_keys: int,
                      source: str, layout: str) -> None:
    """Refuse a conversion that placed no key (all dropped or unknown).

    Args:
        state_dict (Mapping[str, Tensor]): The converted state dict.
        num_keys (int): How many keys the official file had.
        source (str): The official file.
        layout (str): What the keys were expected in, e.g. ``'the
            official IEEE layout'``.

    Raises:
        ConfigError: ``state_dict`` is empty.
    """
    if not state_dict:
        raise ConfigError(
            f'nothing to convert: none of the {num_keys} keys of {source} '
            f'belongs to {layout} (all dropped), so the output would be an '
            'empty checkpoint. Is it the right file for this converter?')


def converter_argument_parser(description: str,
                              src_help: str) -> argparse.ArgumentParser:
    """The command line every official-checkpoint converter takes:
    ``SRC DST [--allow-unknown] [--check-config CONFIG]``.

    Args:
        description (str): What the converter reads (``--help``'s first
            line).
        src_help (str): What ``SRC`` is (e.g. the official file name).

    Returns:
        argparse.ArgumentParser: The parser; a converter adds its own
        options.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help='output mmieee checkpoint (.pth)')
    parser.add_argument(
        '--allow-unknown', action='store_true',
        help='drop keys outside the official layout instead of failing')
    parser.add_argument(
        '--check-config', metavar='CONFIG',
        help='mmieee config (file or model name of configs/*/metafile.yml) '
        'whose model must load the result strictly')
    return parser


def check_converted_weights(state_dict: Mapping[str, Tensor],
                            config: str) -> None:
    """Build the model of ``config`` (pretrained init left out) and load a
    converted state dict into it strictly: what the converters'
    ``--check-config`` runs.

    Args:
        state_dict (Mapping[str, Tensor]): The converted weights.
        config (str): Config file or model name (read by
            :func:`~.tool_setup.load_tool_config`).

    Raises:
        CheckpointMismatchError: Naming the missing / unexpected /
            mis-shaped keys (training classifiers included).
    """
    cfg = load_tool_config(config, data_keys=())
    backbone = cfg.model.get('backbone') or {}
    if isinstance(backbone, dict) and 'init_cfg' in backbone:
        backbone['init_cfg'] = None
    with DefaultScope.overwrite_default_scope('mmieee'):
        model = MODELS.build(cfg.model)
    report = format_report(compare_state_dicts(model.state_dict(),
                                               state_dict))
    if report:
        raise CheckpointMismatchError(
            f'The converted checkpoint does not fit the model of {config}:'
            f'\n{report}')
    model.load_state_dict(state_dict, strict=True)


def save_converted_checkpoint(path: str, state_dict: Mapping[str, Tensor],
                              meta: Dict[str, object]) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` to ``path`` atomically (an
    interrupted run leaves no truncated file under the final name).

    Args:
        path (str): The output checkpoint.
        state_dict (Mapping[str, Tensor]): The converted weights.
        meta (dict): What the converter records (source file, dropped keys,
            ...); ``mmieee_version`` is added.

    Raises:
        OutputWriteError: The file cannot be written (named).
    """
    meta = dict(meta, mmieee_version=__version__)
    atomic_torch_save({'state_dict': state_dict, 'meta': meta}, path)
