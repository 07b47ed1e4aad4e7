# Copyright (c) mmieee contributors.
"""Evaluate a checkpoint on a config's test set (mmengine Runner).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--out metrics.json] [--dump features.pkl] [--non-strict]
        [--show-dir DIR [--show-num N]]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}]

The checkpoint must fit the config's model exactly (every key, every shape,
the same modalities in the same order); otherwise the tool stops before any
metric, listing what does not fit. ``--non-strict`` loads what fits instead.
Keys the test feature does not use (the training classifiers, sized by the
number of training identities) may differ: that is reported in one line.

CONFIG is a config file or a model name of configs/*/metafile.yml. Where
the results go (``--out``, ``--dump``, ``--show-dir``, ``--work-dir``) is
checked before the evaluation starts.

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
import os.path as osp

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import mmengine

from mmieee.evaluation import DumpReIDFeatures
from mmieee.evaluation.feature_set import FEATURE_FILE_SUFFIXES
from mmieee.utils import (CONFIG_HELP, ConfigError, add_common_arguments,
                          build_test_runner, check_output_dir,
                          check_output_file, exit_on_user_error,
                          load_tool_config, parse_tool_args, writing)
from mmieee.utils.cpu_load import warn_if_oversubscribed

#: What ``--out`` may end with (the formats of ``mmengine.dump``).
OUT_SUFFIXES = ('.json', '.yaml', '.yml', '.pkl')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate a multi-modal Re-ID checkpoint.')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('checkpoint', help='path of the checkpoint')
    parser.add_argument(
        '--out', help='write the metrics to this JSON (or .yaml/.pkl) file')
    parser.add_argument(
        '--dump',
        help='write the test features, pids, camids and query/gallery '
        'flags to this .pkl or .npz file')
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
    add_common_arguments(
        parser, work_dir=True, launcher=True,
        cfg_options_example='"model.test_cfg.blank_modalities=[NI]" '
        'test_evaluator.rerank=True')
    return parse_tool_args(parser, argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    with exit_on_user_error():
        if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
            raise ConfigError(
                f'checkpoint {args.checkpoint!r} does not exist.')
        if args.show_dir and args.show_num < 1:
            raise ConfigError(
                f'--show-num must be >= 1, got {args.show_num}')
        # where the results go is checked before the long evaluation
        check_output_file(args.out, '--out', OUT_SUFFIXES)
        check_output_file(args.dump, '--dump', FEATURE_FILE_SUFFIXES)
        check_output_dir(args.show_dir, '--show-dir')
        cfg = load_tool_config(
            args.config, args.cfg_options, args.work_dir, args.launcher,
            data_keys=('test_dataloader', ),
            required=('model', 'test_dataloader', 'test_evaluator'))
        check_output_dir(cfg.work_dir, '--work-dir')
        if args.amp:
            cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
        if args.show_dir:
            hooks = cfg.setdefault('default_hooks', {})
            hooks['visualization'] = dict(
                hooks.get('visualization')
                or dict(type='ReIDVisualizationHook'),
                enable=True,
                out_dir=args.show_dir,
                num_queries=args.show_num)
        runner = build_test_runner(cfg, args.checkpoint,
                                   strict=not args.non_strict,
                                   opt_out='--non-strict')
        if args.dump:
            runner.test_evaluator.metrics.append(
                DumpReIDFeatures(out_file=args.dump))
        warn_if_oversubscribed()
        metrics = runner.test()
        if args.out and runner.rank == 0:
            with writing(args.out):
                mmengine.dump(metrics, args.out, indent=2)
            runner.logger.info(f'Metrics written to {osp.abspath(args.out)}')
    return metrics


if __name__ == '__main__':
    main()
