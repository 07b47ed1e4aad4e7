# Copyright (c) mmieee contributors.
"""Check a config before training with it: everything is built once.

    python tools/misc/check_config.py CONFIG [--forward]
        [--cfg-options KEY=VALUE ...]

What ``tools/train.py`` checks first (option types, schedule values, the
sampler's batch size, the datasets' modalities against the model's, the
dataset folders), then: the model is built and its parameters counted; each
dataloader's dataset is built and one sample goes through its pipeline; the
training sampler forms an epoch of P x K batches; the evaluator's metric is
built; the head's ``num_classes`` is compared with the training set's
identities. ``--forward`` also runs what the first training iteration runs,
on a tiny batch (2 identities x 2 samples of the training set): the data
preprocessor, the model in loss mode, the loss and the backward pass; and
the model on two test samples in predict mode. So every size the config
states (neck and head channels, parts, classes) meets the backbone's real
output before a long run does.
Prints one line per part and exits 2 with ``Error: ...`` on a user error.
The test suite runs this on every shipped config (on generated data); run it
on your own configs the same way.
"""
import argparse
import copy
from typing import Dict, List, Optional

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope

from mmieee.engine.hooks.num_classes_check_hook import check_training_set
from mmieee.registry import DATA_SAMPLERS, DATASETS, METRICS, MODELS
from mmieee.utils import (CONFIG_HELP, ConfigError, add_common_arguments,
                          exit_on_user_error, load_tool_config,
                          parse_tool_args)

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def check(cfg: Config, forward: bool = False) -> Dict[str, object]:
    """Build every part of a (loaded, checked) config once.

    Args:
        cfg (Config): From :func:`mmieee.utils.load_tool_config`.
        forward (bool): Also run the model on two samples of the test set.

    Returns:
        dict: ``model`` (the built model), ``num_params``, ``datasets``
        (loader key -> built dataset), ``samples`` (loader key -> its first
        packed sample), ``batches_per_epoch`` (training sampler),
        ``metrics`` (evaluator key -> built metric), ``warnings`` and, with
        ``forward``, ``losses`` (the first training step's loss terms) and
        ``feature_dim``.

    Raises:
        ConfigError: A size that does not fit (the message names the key),
            more training identities than ``model.head.num_classes``, or
            a training camera id outside the backbone's camera embedding.
    """
    init_default_scope(cfg.get('default_scope', 'mmieee'))
    model = MODELS.build(copy.deepcopy(cfg.model))
    out: Dict[str, object] = dict(
        model=model,
        num_params=sum(p.numel() for p in model.parameters()),
        datasets={}, samples={}, metrics={}, warnings=[])
    for key in LOADERS:
        loader = cfg.get(key)
        if not loader:
            continue
        dataset = DATASETS.build(copy.deepcopy(loader.dataset))
        out['datasets'][key] = dataset
        out['samples'][key] = dataset[0]
        if key == 'train_dataloader':
            sampler = DATA_SAMPLERS.build(
                copy.deepcopy(loader.sampler),
                default_args=dict(dataset=dataset, seed=0))
            out['batches_per_epoch'] = len(sampler) // loader.batch_size
            try:
                warning = check_training_set(model, dataset)
            except ValueError as err:
                raise ConfigError(str(err)) from err
            if warning:
                out['warnings'].append(warning)
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key):
            out['metrics'][key] = METRICS.build(copy.deepcopy(cfg[key]))
    if forward and 'train_dataloader' in out['datasets']:
        out['losses'] = first_train_step(model,
                                         out['datasets']['train_dataloader'])
    if forward:
        key = 'test_dataloader' if 'test_dataloader' in out['datasets'] \
            else next(iter(out['datasets']))
        dataset = out['datasets'][key]
        batch = default_collate(
            [dataset[i] for i in range(min(2, len(dataset)))])
        model.eval()
        with torch.no_grad():
            samples = model.test_step(batch)
        out['feature_dim'] = samples[0].pred_feature.numel()
    return out


def first_train_step(model: torch.nn.Module,
                     dataset: torch.utils.data.Dataset) -> Dict[str, float]:
    """The first training iteration's forward, loss and backward on 2
    identities x 2 samples (no optimizer step).

    Returns:
        dict: The logged loss terms.

    Raises:
        ConfigError: The step fails (the model's own checks name the key).
    """
    by_label: Dict[int, List[int]] = {}
    for i in range(len(dataset)):
        label = int(dataset.get_data_info(i)['gt_label'])
        by_label.setdefault(label, []).append(i)
    ids = [rows[:2] for rows in by_label.values() if len(rows) >= 2][:2]
    if len(ids) < 2:
        raise ConfigError(
            f'the training set ({type(dataset).__name__}) has fewer than 2 '
            'identities with 2 samples each: a P x K batch cannot be formed')
    batch = default_collate([dataset[i] for rows in ids for i in rows])
    model.train()
    try:
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
        loss, log_vars = model.parse_losses(losses)
        loss.backward()
    except (ValueError, RuntimeError, KeyError) as err:
        raise ConfigError(
            f'the first training step (2 identities x 2 samples of the '
            f'training set) fails: {err}') from err
    model.zero_grad(set_to_none=True)
    return {k: float(v) for k, v in log_vars.items()}


def summary_lines(out: Dict[str, object]) -> List[str]:
    """One line per checked part."""
    model = out['model']
    lines = [f'model: {type(model).__name__}, modalities '
             f'{list(model.modalities)}, {out["num_params"]:,} parameters']
    for key, dataset in out['datasets'].items():
        info = dataset.metainfo
        inputs = out['samples'][key]['inputs']
        lines.append(
            f'{key}: {type(dataset).__name__} {dataset.split} split, '
            f'{len(dataset)} samples, {info.get("num_ids")} ids, '
            f'{info.get("num_cameras")} cameras; one sample -> '
            f'{tuple(inputs.shape)} {inputs.dtype}')
    if 'batches_per_epoch' in out:
        lines.append(f'train sampler: {out["batches_per_epoch"]} batches '
                     'per epoch')
    for key, metric in out['metrics'].items():
        lines.append(f'{key}: {type(metric).__name__}')
    if 'losses' in out:
        terms = ', '.join(f'{k} {v:.4g}' for k, v in out['losses'].items())
        lines.append(f'train step: {terms}; backward OK')
    if 'feature_dim' in out:
        lines.append(f'forward: {out["feature_dim"]}-d test feature')
    lines += [f'warning: {w}' for w in out['warnings']]
    return lines


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Build every part of a config once and report.')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument(
        '--forward',
        action='store_true',
        help='also run the first training step (loss and backward) on a '
        'tiny batch and the model on two test samples')
    add_common_arguments(parser,
                         cfg_options_example='model.head.num_classes=50')
    return parse_tool_args(parser, argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, object]:
    args = parse_args(argv)
    with exit_on_user_error():
        cfg = load_tool_config(args.config, args.cfg_options)
        out = check(cfg, forward=args.forward)
    print('\n'.join(summary_lines(out)))
    print(f'OK: {args.config}')
    return out


if __name__ == '__main__':
    main()
