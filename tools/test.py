# Copyright (c) mmieee contributors.
"""Evaluate a checkpoint on a config's test set (mmengine Runner).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--out metrics.json] [--dump features.pkl] [--non-strict]
        [--show-dir DIR [--show-num N]]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}]

The checkpoint must fit the config's model exactly (every key, every shape,
the same modalities in the same order); otherwise the tool stops before any
metric, listing what does not fit. ``--non-strict`` loads what fits instead.

``--out`` writes the metrics (``reid/mAP``, ``reid/R1``, ... in percent) as
JSON; ``--dump`` writes a pickle with the test features and their ids:
``feats`` (N, D) float32 array, ``pids``, ``camids``, ``sceneids`` (when the
dataset has scenes), ``is_query``, ``is_gallery`` (N,) arrays and
``img_paths`` (a :class:`mmieee.evaluation.FeatureSet` file); the path
is logged. ``--show-dir`` writes the rank lists of the ``--show-num`` worst
queries (:class:`mmieee.engine.ReIDVisualizationHook`) and an
``index.html``.
Multi-GPU / multi-process: ``bash tools/dist_test.sh CONFIG CKPT N [args]``.
"""
import argparse
import os
import os.path as osp

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import mmengine
from mmengine.config import DictAction

from mmieee.evaluation import DumpReIDFeatures
from mmieee.utils import (ConfigError, build_test_runner, exit_on_user_error,
                          load_tool_config)
from mmieee.utils.cpu_load import warn_if_oversubscribed


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate a multi-modal Re-ID checkpoint.')
    parser.add_argument('config', help='path of the config file')
    parser.add_argument('checkpoint', help='path of the checkpoint')
    parser.add_argument(
        '--work-dir',
        help='folder for the log (default: work_dirs/<config name>)')
    parser.add_argument(
        '--out', help='write the metrics to this JSON (or .yaml/.pkl) file')
    parser.add_argument(
        '--dump',
        help='write the test features, pids, camids and query/gallery '
        'flags to this pickle file')
    parser.add_argument(
        '--show-dir',
        help='write rank-list pictures of the test queries (worst AP '
        'first) and an index.html to this folder')
    parser.add_argument(
        '--show-num',
        type=int,
        default=20,
        help='number of queries drawn with --show-dir (default 20)')
    parser.add_argument(
        '--amp', action='store_true', help='mixed-precision inference')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='load the checkpoint even if keys are missing, unexpected or '
        'of another shape, or its modalities differ (listed in the log); '
        'by default such a checkpoint is refused')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, KEY=VALUE with dotted keys, e.g. '
        '"model.test_cfg.blank_modalities=[NI]" '
        'test_evaluator.rerank=True')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='how the processes were started (dist_test.sh: pytorch)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    with exit_on_user_error():
        if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
            raise ConfigError(
                f'checkpoint {args.checkpoint!r} does not exist.')
        cfg = load_tool_config(args.config, args.cfg_options, args.work_dir,
                               args.launcher, data_keys=('test_dataloader', ))
        if args.amp:
            cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
        if args.show_dir:
            if args.show_num < 1:
                raise ConfigError(
                    f'--show-num must be >= 1, got {args.show_num}')
            hooks = cfg.setdefault('default_hooks', {})
            hooks['visualization'] = dict(
                hooks.get('visualization')
                or dict(type='ReIDVisualizationHook'),
                enable=True,
                out_dir=args.show_dir,
                num_queries=args.show_num)
        runner = build_test_runner(cfg, args.checkpoint,
                                   strict=not args.non_strict)
    if args.dump:
        runner.test_evaluator.metrics.append(
            DumpReIDFeatures(out_file=args.dump))
    warn_if_oversubscribed()
    metrics = runner.test()
    if args.out and runner.rank == 0:
        mmengine.dump(metrics, args.out, indent=2)
        runner.logger.info(f'Metrics written to {osp.abspath(args.out)}')
    return metrics


if __name__ == '__main__':
    main()
