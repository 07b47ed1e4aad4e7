# Copyright (c) mmieee contributors.
"""Evaluate a checkpoint on a config's test set (mmengine Runner).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--out metrics.json] [--dump features.pkl]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}]

``--out`` writes the metrics (``reid/mAP``, ``reid/R1``, ... in percent) as
JSON; ``--dump`` writes a pickle with the test features and their ids:
``feats`` (N, D) float32 array, ``pids``, ``camids``, ``sceneids`` (when the
dataset has scenes), ``is_query``, ``is_gallery`` (N,) arrays and
``img_paths`` (see :func:`mmieee.evaluation.collect_features`).
Multi-GPU / multi-process: ``bash tools/dist_test.sh CONFIG CKPT N [args]``.
"""
import argparse
import os
import os.path as osp
import sys

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import mmengine
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmieee.evaluation import DumpReIDFeatures
from mmieee.utils import (DatasetNotFoundError, check_data_roots,
                          merge_cfg_options, setup_distributed)


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
        '--amp', action='store_true', help='mixed-precision inference')
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


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line options to the config."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.amp:
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
    return merge_cfg_options(cfg, args.cfg_options)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'Error: checkpoint {args.checkpoint!r} does not exist.')
    cfg = Config.fromfile(args.config)
    try:
        cfg = merge_args(cfg, args)
        check_data_roots(cfg, keys=('test_dataloader', ))
    except DatasetNotFoundError as err:
        sys.exit(f'Error: {err}')
    except KeyError as err:  # unknown --cfg-options key
        sys.exit(f'Error: {err.args[0]}')
    setup_distributed(cfg)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    if args.dump:
        runner.test_evaluator.metrics.append(
            DumpReIDFeatures(out_file=args.dump))
    metrics = runner.test()
    if args.out and runner.rank == 0:
        mmengine.dump(metrics, args.out, indent=2)
    return metrics


if __name__ == '__main__':
    main()
