# Copyright (c) mmieee contributors.
"""Put a checkpoint's weights into a model for evaluation: all of them, or a
clear error.

mmengine's Runner loads ``load_from`` non-strictly: a checkpoint of another
architecture, or with no matching key at all, leaves the model partly or
wholly random, one warning line is logged, and evaluation prints numbers of
that random model. For evaluation and inference mmieee loads strictly
instead (:func:`load_model_weights`): every model key must be in the
checkpoint with the same shape, no checkpoint key may be left over, and the
checkpoint's modalities (``meta['modalities']``, written by
:class:`~mmieee.engine.ReIDCheckpointHook`, or the training set's
``meta['dataset_meta']['modalities']``) must be the model's, in the same
order. Otherwise :class:`CheckpointMismatchError` lists the first keys of
each kind and their counts. ``strict=False`` (``--non-strict``) loads what
fits and logs the same list.

**Training-only parameters.** Some weights take no part in the test
feature: the training classifiers (their size is the number of *training*
identities) and metric-loss parameters such as CenterLoss' centres.
Evaluating on another dataset than the one trained on (a standard Re-ID
protocol), or with the base config after training with
``--cfg-options model.head.num_classes=...``, differs only there. A module
declares such keys in its class attribute ``training_only_prefixes``
(state-dict key prefixes relative to the module, e.g. ``IEEEHead``:
``('classifiers.', 'metric_losses.', 'loss_ce.')``);
:func:`training_only_prefixes` collects them over the model. Differences in
those keys are reported in one line and left out (the model keeps its own
values there); everything else stays strict. ``relax_training_only=False``
makes them strict too (e.g. for publishing a checkpoint).

Training with ``load_from`` (fine-tuning) keeps mmengine's behaviour.
"""
import logging
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from .errors import CheckpointMismatchError, format_listing


def checkpoint_modalities(checkpoint: dict) -> Optional[Tuple[str, ...]]:
    """The modalities a checkpoint was trained with, if it says.

    Args:
        checkpoint (dict): A loaded mmengine checkpoint.

    Returns:
        tuple[str] | None: ``meta['modalities']``, else the training set's
        ``meta['dataset_meta']['modalities']``, else None.
    """
    meta = checkpoint.get('meta') or {}
    mods = meta.get('modalities')
    if mods is None:
        mods = (meta.get('dataset_meta') or {}).get('modalities')
    return None if mods is None else tuple(mods)


def compare_state_dicts(model_state: Dict[str, torch.Tensor],
                        ckpt_state: Dict[str, torch.Tensor]) -> Dict:
    """Keys the checkpoint lacks, has in excess, or holds in another shape.

    Args:
        model_state (dict): The model's ``state_dict()``.
        ckpt_state (dict): The checkpoint's state dict.

    Returns:
        dict: ``missing`` (list of keys), ``unexpected`` (list of keys),
        ``mismatched`` (list of ``(key, checkpoint shape, model shape)``).
    """
    missing = [k for k in model_state if k not in ckpt_state]
    unexpected = [k for k in ckpt_state if k not in model_state]
    mismatched = [(k, tuple(v.shape), tuple(model_state[k].shape))
                  for k, v in ckpt_state.items()
                  if k in model_state and hasattr(v, 'shape')
                  and tuple(v.shape) != tuple(model_state[k].shape)]
    return dict(missing=missing, unexpected=unexpected, mismatched=mismatched)


def training_only_prefixes(model: nn.Module) -> Tuple[str, ...]:
    """State-dict key prefixes the test feature does not depend on.

    Collected from every submodule's ``training_only_prefixes`` class
    attribute (prefixes relative to that submodule; module docstring).

    Args:
        model (nn.Module): The model.

    Returns:
        tuple[str]: Full key prefixes, e.g. ``('head.classifiers.', ...)``.
    """
    out = []
    for name, module in model.named_modules():
        for prefix in getattr(module, 'training_only_prefixes', ()):
            out.append(f'{name}.{prefix}' if name else prefix)
    return tuple(out)


def split_report(report: Dict, prefixes: Sequence[str]) -> Tuple[Dict, Dict]:
    """Split a :func:`compare_state_dicts` report into (the keys not under
    ``prefixes``, the keys under them)."""
    prefixes = tuple(prefixes)

    def key(item):
        return item if isinstance(item, str) else item[0]

    strict = {kind: [i for i in items if not key(i).startswith(prefixes)]
              for kind, items in report.items()}
    relaxed = {kind: [i for i in items if prefixes and
                      key(i).startswith(prefixes)]
               for kind, items in report.items()}
    return strict, relaxed


def format_report(report: Dict) -> str:
    """One line per kind of mismatch, first keys named, counts given."""
    lines = []
    if report['missing']:
        lines.append(f'{len(report["missing"])} model keys missing from the '
                     f'checkpoint: {format_listing(report["missing"])}')
    if report['unexpected']:
        lines.append(f'{len(report["unexpected"])} checkpoint keys the model '
                     f'does not have: {format_listing(report["unexpected"])}')
    if report['mismatched']:
        shapes = [f'{k} (checkpoint {tuple(a)}, model {tuple(b)})'
                  for k, a, b in report['mismatched']]
        lines.append(f'{len(shapes)} keys with another shape: '
                     f'{format_listing(shapes)}')
    return '\n'.join(f'  {line}' for line in lines)


def _state_dict(checkpoint: dict) -> 'OrderedDict[str, torch.Tensor]':
    state = checkpoint.get('state_dict', checkpoint)
    # DataParallel / DDP prefix, as mmengine strips it
    out = OrderedDict(
        (re.sub(r'^module\.', '', k), v) for k, v in state.items())
    # per-module versions (e.g. BatchNorm's) that load_state_dict reads
    out._metadata = getattr(state, '_metadata', OrderedDict())
    return out


def load_model_weights(model: nn.Module,
                       filename: str,
                       strict: bool = True,
                       map_location: str = 'cpu',
                       relax_training_only: bool = True,
                       opt_out: Optional[str] = 'strict=False') -> dict:
    """Load a checkpoint into ``model`` for evaluation or inference.

    Args:
        model (nn.Module): The (unwrapped) model; its ``modalities``
            attribute, when it has one, is compared with the checkpoint's.
        filename (str): Checkpoint path or URL (loaded by mmieee's safe
            loader).
        strict (bool): Refuse any missing, unexpected or mis-shaped key and
            any modality mismatch. False loads what fits and logs the rest.
            Defaults to True.
        map_location (str): As for :func:`torch.load`. Defaults to 'cpu'.
        relax_training_only (bool): Report differences in training-only
            keys (:func:`training_only_prefixes`) in one line and go on
            instead of refusing them. Defaults to True.
        opt_out (str, optional): How the caller's user loads only what fits
            (``'--non-strict'`` in ``tools/test.py``), named in the error;
            None names nothing (the caller offers no way). Defaults to
            ``'strict=False'``.

    Returns:
        dict: The loaded checkpoint (its ``meta`` is often useful).

    Raises:
        CheckpointMismatchError: With ``strict``, when anything else does
            not fit; the message names the file, says what to do, then
            lists the keys.
    """
    checkpoint = _load_checkpoint(filename, map_location=map_location,
                                  logger='current')
    problems: List[str] = []
    have = checkpoint_modalities(checkpoint)
    want = getattr(model, 'modalities', None)
    if have is not None and want is not None and tuple(want) != have:
        problems.append(
            f'  the checkpoint was trained on modalities {list(have)} but the '
            f'model has {list(want)} (number and order must be equal: set '
            f'model.modalities and the datasets\' modalities to {list(have)})')
    state = _state_dict(checkpoint)
    report = compare_state_dicts(model.state_dict(), state)
    prefixes = training_only_prefixes(model) if relax_training_only else ()
    report, relaxed = split_report(report, prefixes)
    listing = format_report(report)
    if listing:
        problems.append(listing)
    if problems:
        advice = 'use the config the checkpoint was trained with'
        if opt_out:
            advice += f', or {opt_out} to load only what fits'
        text = (f'checkpoint {filename} does not fit the model ({advice}):\n'
                + '\n'.join(problems))
        if strict:
            raise CheckpointMismatchError(
                text + '\nThe model would be evaluated with weights it never '
                'got.')
        print_log(text + '\nLoading what fits (non-strict).',
                  logger='current', level=logging.WARNING)
    counts = {kind: len(items) for kind, items in relaxed.items() if items}
    if counts:
        what = ', '.join(f'{n} {kind}' for kind, n in counts.items())
        keys = [k if isinstance(k, str) else k[0]
                for items in relaxed.values() for k in items]
        print_log(
            f'{filename}: training-only keys differ ({what}: '
            f'{format_listing(keys)}); they take no part in the test feature '
            'and keep the model\'s values.', logger='current',
            level=logging.WARNING)
    for key, _, _ in report['mismatched'] + relaxed['mismatched']:
        del state[key]
    for key in relaxed['unexpected']:
        del state[key]
    # Everything left fits (or was reported above): torch's loader, which
    # loads what matches and says nothing.
    model.load_state_dict(state, strict=False)
    return checkpoint
