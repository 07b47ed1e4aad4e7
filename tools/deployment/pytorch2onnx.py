# Copyright (c) mmieee contributors.
"""Export a multi-modal Re-ID model's feature path to ONNX.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out model.onnx
        [--shape H W] [--dynamic-batch] [--batch-size B] [--opset 17]
        [--verify] [--num-real N] [--cfg-options KEY=VALUE ...]

CONFIG may also be a model name of configs/*/metafile.yml. Option values
(``--shape``, ``--out``) are checked before the model is built. The graph takes
**raw uint8** images (B, M, 3, H, W), RGB, resized to the model's input
size, and folds in the normalisation and the blanked modalities
(``--cfg-options "model.test_cfg.blank_modalities=[NI]"``); it returns the
(B, D) float32 features (see mmieee/apis/onnx_export.py and
docs/inference.md). A model with a camera embedding (TOP-ReID) takes the
int64 (B,) camera ids as a second input, ``camids``. ``--shape`` defaults to
the test pipeline's Resize.

``--verify`` runs the file with onnxruntime and compares it with PyTorch on
random uint8 inputs and on the first samples of the config's test split
(real images through the test pipeline), printing the max absolute and
relative difference of each; the tool exits with status 1 when a relative
difference reaches the fp32 target 1e-4.

Needs the deploy extra: pip install -e ".[deploy]".
"""
import argparse
import os.path as osp
import sys

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import torch
from mmengine.dataset import default_collate

from mmieee.apis import build_test_dataset, init_model
from mmieee.apis.onnx_export import (DEFAULT_OPSET, export_onnx, needs_camids,
                                     verify_onnx)
from mmieee.utils import (CONFIG_HELP, ConfigError, add_common_arguments,
                          check_output_file, exit_on_user_error,
                          get_test_input_size, load_tool_config,
                          parse_tool_args, resolve_config, writing)

#: Relative difference (to the features' scale) that --verify accepts.
RELATIVE_TARGET = 1e-4


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export the Re-ID feature path to ONNX.')
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', required=True, help='output .onnx file')
    parser.add_argument(
        '--shape', type=int, nargs=2, metavar=('H', 'W'),
        help='input height and width (default: the test pipeline Resize)')
    parser.add_argument(
        '--dynamic-batch', action='store_true',
        help='make the batch axis dynamic (else fixed to --batch-size)')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='batch of the traced input (default 1)')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET,
                        help=f'ONNX opset (default {DEFAULT_OPSET})')
    parser.add_argument(
        '--verify', action='store_true',
        help='compare onnxruntime with PyTorch on random and real inputs')
    parser.add_argument(
        '--num-real', type=int, default=4,
        help='test-split samples for --verify with --dynamic-batch '
        '(a fixed batch uses one batch); default 4')
    add_common_arguments(
        parser, cfg_options_example='"model.test_cfg.blank_modalities=[NI]"')
    return parse_tool_args(parser, argv)


def real_inputs(cfg, num: int):
    """The first ``num`` test-split samples: uint8 (num, M, C, H, W) and
    their int64 (num,) camera ids."""
    dataset = build_test_dataset(cfg)
    if len(dataset) < num:
        raise ConfigError(f'--verify needs {num} test samples, the test '
                          f'split has {len(dataset)}')
    batch = default_collate([dataset[i] for i in range(num)])
    camids = torch.tensor([s.camid for s in batch['data_samples']])
    return batch['inputs'], camids


def report(name: str, result: dict) -> bool:
    ok = result['max_rel'] < RELATIVE_TARGET
    print(f'{name:>6} inputs (batch {result["batch"]}): max abs diff '
          f'{result["max_abs"]:.3e}, max rel diff {result["max_rel"]:.3e} '
          f'(target < {RELATIVE_TARGET:g}): {"OK" if ok else "FAIL"}')
    return ok


def check_args(args: argparse.Namespace) -> None:
    """Refuse option values before anything is built."""
    try:
        import onnx  # noqa: F401
        if args.verify:
            import onnxruntime  # noqa: F401
    except ImportError as err:
        raise ConfigError(f'{err.name} is not installed: pip install -e '
                          '".[deploy]"') from err
    if not osp.isfile(args.checkpoint):
        raise ConfigError(f'checkpoint {args.checkpoint!r} does not exist')
    if args.shape is not None and min(args.shape) < 1:
        raise ConfigError(f'--shape takes a height and a width >= 1, got '
                          f'{args.shape[0]} {args.shape[1]}')
    for option in ('batch_size', 'num_real', 'opset'):
        if getattr(args, option) < 1:
            raise ConfigError(f'--{option.replace("_", "-")} must be >= 1, '
                              f'got {getattr(args, option)}')
    check_output_file(args.out, '--out', ('.onnx', ))


def main(argv=None) -> int:
    args = parse_args(argv)
    with exit_on_user_error():
        check_args(args)
        config = resolve_config(args.config)
        cfg = load_tool_config(
            config, args.cfg_options,
            data_keys=('test_dataloader', ) if args.verify else ())
        shape = args.shape or get_test_input_size(cfg)
        if shape is None:
            raise ConfigError('the test pipeline has no Resize: give the '
                              'input size with --shape H W')
        model = init_model(cfg, args.checkpoint, device='cpu')
        with writing(args.out):
            export_onnx(
                model, args.out, shape, batch_size=args.batch_size,
                dynamic_batch=args.dynamic_batch, opset=args.opset,
                metadata=dict(config=osp.splitext(osp.basename(config))[0],
                              checkpoint=osp.basename(args.checkpoint)))
        batch_axis = 'B dynamic' if args.dynamic_batch else \
            f'B = {args.batch_size}'
        blanked = [model.modalities[i] for i in model.blank_indices]
        camids = ', camids int64 (B,)' if needs_camids(model) else ''
        print(f'exported {args.out}: input uint8 (B, '
              f'{len(model.modalities)}, 3, {shape[0]}, {shape[1]})'
              f'{camids}, {batch_axis}, modalities {model.modalities}, '
              f'blanked {blanked}')
        if not args.verify:
            return 0
        gen = torch.Generator().manual_seed(0)
        batch = 3 if args.dynamic_batch else args.batch_size
        num_real = args.num_real if args.dynamic_batch else args.batch_size
        random = torch.randint(0, 256, (batch, len(model.modalities), 3,
                                        shape[0], shape[1]),
                               dtype=torch.uint8, generator=gen)
        real, camids = real_inputs(cfg, num_real)
        if tuple(real.shape[-2:]) != tuple(shape):
            raise ConfigError(
                f'the test pipeline gives {tuple(real.shape[-2:])} images '
                f'but the graph was exported for --shape {tuple(shape)}')
    ok = report('random', verify_onnx(model, args.out, random))
    ok &= report('real', verify_onnx(model, args.out, real, camids))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
