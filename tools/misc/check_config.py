# Copyright (c) mmieee contributors.
"""Check a config before training with it: everything is built once.

    python tools/misc/check_config.py CONFIG [--forward]
        [--cfg-options KEY=VALUE ...]

What ``tools/train.py`` checks first (option types, schedule values, the
sampler's batch size, the datasets' modalities against the model's, the
dataset folders), then: the model is built and its parameters counted; each
dataloader's dataset is built and one sample goes through its pipeline; the
training sampler forms an epoch of P x K batches; the evaluator's metric is
built. ``--forward`` also runs the model on two samples in predict mode,
which checks the neck and head sizes against the backbone's real output.
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

from mmieee.registry import DATA_SAMPLERS, DATASETS, METRICS, MODELS
from mmieee.utils import (CONFIG_HELP, add_common_arguments,
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
        ``metrics`` (evaluator key -> built metric) and, with ``forward``,
        ``feature_dim``.
    """
    init_default_scope(cfg.get('default_scope', 'mmieee'))
    model = MODELS.build(copy.deepcopy(cfg.model))
    out: Dict[str, object] = dict(
        model=model,
        num_params=sum(p.numel() for p in model.parameters()),
        datasets={}, samples={}, metrics={})
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
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key):
            out['metrics'][key] = METRICS.build(copy.deepcopy(cfg[key]))
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
    if 'feature_dim' in out:
        lines.append(f'forward: {out["feature_dim"]}-d test feature')
    return lines


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Build every part of a config once and report.')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument(
        '--forward',
        action='store_true',
        help='also run the model on two test samples')
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
