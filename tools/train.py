# Copyright (c) mmieee contributors.
"""Train a multi-modal Re-ID model from a config (mmengine Runner).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--no-validate] [--cfg-options KEY=VALUE ...]
        [--launcher {none,pytorch,slurm,mpi}]

Multi-GPU / multi-process: ``bash tools/dist_train.sh CONFIG N [args]``
(works on CPU-only machines too: N gloo processes).
"""
import argparse
import os
import os.path as osp
import sys

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmieee.utils import (DatasetNotFoundError, check_data_roots,
                          merge_cfg_options, setup_distributed)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a multi-modal Re-ID model.')
    parser.add_argument('config', help='path of the config file')
    parser.add_argument(
        '--work-dir',
        help='folder for logs and checkpoints (default: '
        'work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        metavar='CKPT',
        help='resume training: from CKPT if given, else from the latest '
        'checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed-precision training (needs a GPU)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by (total batch size) / '
        'auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate during training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, KEY=VALUE with dotted keys, e.g. '
        'train_cfg.max_epochs=10 model.head.num_classes=50 '
        '"model.modalities=(RGB,TI)"; lists as key="[a,b]" (no spaces)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='how the processes were started (dist_train.sh: pytorch)')
    # torch.distributed.launch passes --local-rank (torchrun sets LOCAL_RANK).
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
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        if cfg.get('default_hooks', {}).get('checkpoint'):
            cfg.default_hooks.checkpoint.pop('save_best', None)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if not cfg.get('auto_scale_lr', {}).get('base_batch_size'):
            raise KeyError('--auto-scale-lr needs auto_scale_lr.'
                           'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    return merge_cfg_options(cfg, args.cfg_options)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    try:
        cfg = merge_args(cfg, args)
        check_data_roots(cfg)
    except DatasetNotFoundError as err:
        sys.exit(f'Error: {err}')
    except KeyError as err:  # unknown --cfg-options key
        sys.exit(f'Error: {err.args[0]}')
    setup_distributed(cfg)
    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
