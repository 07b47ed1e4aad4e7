# Copyright (c) mmieee contributors.
"""Train a multi-modal Re-ID model from a config (mmengine Runner).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]]
        [--amp [{fp16,bf16}]] [--compile] [--auto-scale-lr] [--no-validate]
        [--cfg-options KEY=VALUE ...] [--launcher {none,pytorch,slurm,mpi}]

CONFIG is a config file or a model name of configs/*/metafile.yml. One
training per work dir: a second one on the same folder stops at once,
naming the first (:class:`mmieee.utils.WorkDirLock`).
Multi-GPU / multi-process: ``bash tools/dist_train.sh CONFIG N [args]``
(works on CPU-only machines too: N gloo processes).
"""
import argparse
import contextlib
import os.path as osp

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import torch
from mmengine.config import Config

from mmieee.utils import (AMP_DTYPES, CONFIG_HELP, ConfigError, WorkDirLock,
                          add_common_arguments, apply_speed_options,
                          build_runner, check_output_dir,
                          check_pretrained_files, check_speed_options,
                          exit_on_user_error, launch_rank, load_tool_config,
                          parse_tool_args)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a multi-modal Re-ID model.')
    parser.add_argument('config', help=CONFIG_HELP)
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
        nargs='?',
        const='fp16',
        default=None,
        choices=sorted(AMP_DTYPES),
        help='mixed-precision training (needs a GPU): fp16 (the default, '
        'with dynamic loss scaling) or bf16')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the train step (config key compile=True); '
        'the first iterations are slow while it compiles')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by (total batch size) / '
        'auto_scale_lr.base_batch_size')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate during training (the validation data is then '
        'not needed)')
    add_common_arguments(
        parser, work_dir=True, launcher=True,
        cfg_options_example='train_cfg.max_epochs=10 '
        'model.head.num_classes=50 (two modalities: set model.modalities and '
        'the three dataloaders\' dataset.modalities to the same tuple, see '
        'docs/train_test.md)')
    return parse_tool_args(parser, argv)


def apply_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the training-only command-line options to the config."""
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        if cfg.get('default_hooks', {}).get('checkpoint'):
            cfg.default_hooks.checkpoint.pop('save_best', None)
    if args.amp or args.compile:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
        check_speed_options(device, amp=args.amp, compile=args.compile)
        apply_speed_options(cfg, amp=args.amp, compile=args.compile)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        if not cfg.get('auto_scale_lr', {}).get('base_batch_size'):
            raise ConfigError('--auto-scale-lr needs auto_scale_lr.'
                              'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    return cfg


def main(argv=None) -> None:
    args = parse_args(argv)
    with exit_on_user_error():
        if args.resume not in (None, 'auto') and '://' not in args.resume \
                and not osp.isfile(args.resume):
            raise ConfigError(
                f'--resume {args.resume}: no such checkpoint file (give an '
                'existing checkpoint, or --resume alone to continue from the '
                'latest one in the work dir)')
        loaders = ('train_dataloader', ) if args.no_validate else (
            'train_dataloader', 'val_dataloader')
        cfg = load_tool_config(args.config, args.cfg_options, args.work_dir,
                               args.launcher, data_keys=loaders,
                               required=('model', 'train_dataloader'))
        check_output_dir(cfg.work_dir, '--work-dir')
        cfg = apply_args(cfg, args)
        check_pretrained_files(cfg)
        # one training per work dir (rank 0 holds the lock for the job)
        lock = WorkDirLock(cfg.work_dir) if launch_rank() == 0 else \
            contextlib.nullcontext()
        with lock:
            build_runner(cfg).train()


if __name__ == '__main__':
    main()
