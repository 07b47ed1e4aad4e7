# Copyright (c) mmieee contributors.
"""FLOPs and parameters of the model of an mmieee config.

Uses mmengine's complexity analysis (``mmengine.analysis``, fvcore-style
counting: one multiply-add of a conv / linear layer counts as one FLOP, an
eval-mode affine BatchNorm 2 per element, adaptive average pooling 1 per
input element; element-wise ops and max pooling are not counted). The model
is built from the config (``default_scope='mmieee'``, no pretrained weights
are loaded) and a random (1, M, 3, H, W) input is run through it in
``tensor`` mode, i.e. the test-time feature extraction (backbone + neck).
The head's part classifiers and metric losses (e.g. CenterLoss centres)
are not used at test time, so they add parameters but no FLOPs.

Usage::

    python tools/analysis_tools/get_flops.py configs/ieee/<config>.py \\
        [--shape 256 128] [--num-classes 171] [--cfg-options ...]

The parameter count is printed as an exact integer as well (all parameters,
trainable or frozen; BatchNorm running statistics are buffers and are not
counted).
"""
import argparse
from typing import Dict, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from torch import nn


class TensorModeWrapper(nn.Module):
    """Call ``model(inputs, mode='tensor')`` from a one-argument forward.

    mmengine's analyzers trace ``forward(*inputs)`` with tensor arguments
    only, while an mmengine ``BaseModel`` needs the ``mode`` argument.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        kwargs = {}
        if getattr(self.model, 'backbone_needs_camids', False):
            # camera 0 for every sample: the camera embedding is an
            # addition whose cost does not depend on the id
            kwargs['camids'] = torch.zeros(
                inputs.shape[0], dtype=torch.long, device=inputs.device)
        return self.model(inputs, mode='tensor', **kwargs)


def set_num_classes(cfg: Config, num_classes: int) -> None:
    """Set ``num_classes`` of the head and of metric losses that have one."""
    head = cfg.model.get('head')
    if head is None or 'type' not in head:
        raise KeyError('--num-classes: the config has no model.head.')
    head['num_classes'] = num_classes
    for loss in head.get('metric_losses') or []:
        if 'num_classes' in loss:
            loss['num_classes'] = num_classes


def build_model(cfg: Config) -> nn.Module:
    """Build ``cfg.model`` in the mmieee scope, in eval mode."""
    from mmengine.registry import DefaultScope

    import mmieee  # noqa: F401  (compat shims before mmpretrain)
    from mmieee.registry import MODELS
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmieee') or 'mmieee'):
        model = MODELS.build(cfg.model)
    return model.eval()


def num_modalities_of(model: nn.Module) -> int:
    """M of a built model (``modalities`` or ``backbone.num_modalities``)."""
    if getattr(model, 'modalities', None):
        return len(model.modalities)
    backbone = getattr(model, 'backbone', None)
    if getattr(backbone, 'num_modalities', None):
        return int(backbone.num_modalities)
    raise AttributeError(
        f'{type(model).__name__} has neither `modalities` nor '
        '`backbone.num_modalities`; cannot tell how many modalities to feed.')


def get_complexity(cfg: Config,
                   shape: Sequence[int] = (256, 128),
                   num_classes: Optional[int] = None,
                   show_table: bool = True) -> Dict:
    """Count FLOPs and parameters of the model of ``cfg``.

    Args:
        cfg (Config): An mmieee config with ``model``.
        shape (Sequence[int]): Input (H, W). Defaults to (256, 128).
        num_classes (int, optional): Override the head's number of classes.
        show_table (bool): Build mmengine's per-module table.

    Returns:
        dict: mmengine's result (``flops``, ``flops_str``, ``params``,
        ``params_str``, ``activations``, ``out_table``, ...) plus
        ``input_shape`` (1, M, 3, H, W) and ``params_per_module``
        (top-level child name → exact count).
    """
    from mmengine.analysis import get_model_complexity_info, parameter_count
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f'--shape takes H W, got {tuple(shape)}.')
    cfg = Config(cfg.to_dict())  # the caller's config stays untouched
    if num_classes is not None:
        set_num_classes(cfg, num_classes)
    model = build_model(cfg)
    input_shape = (1, num_modalities_of(model), 3, *shape)
    inputs = torch.randn(input_shape,
                         device=next(model.parameters()).device)
    with torch.no_grad():
        result = get_model_complexity_info(
            TensorModeWrapper(model),
            inputs=(inputs, ),
            show_table=show_table,
            show_arch=False)
    counts = parameter_count(model)
    result['params'] = counts['']
    result['input_shape'] = input_shape
    result['params_per_module'] = {
        name: counts.get(name, 0)
        for name, _ in model.named_children()
    }
    return result


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='FLOPs and parameters of an mmieee model')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        default=[256, 128],
        help='input height and width of every modality (default 256 128)')
    parser.add_argument(
        '--num-classes',
        type=int,
        default=None,
        help='override the number of training identities of the head')
    parser.add_argument(
        '--no-table', action='store_true', help='only print the totals')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value, as in tools/train.py')
    return parser.parse_args(argv)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    result = get_complexity(
        cfg,
        shape=args.shape,
        num_classes=args.num_classes,
        show_table=not args.no_table)
    if result['out_table']:
        print(result['out_table'])
    split_line = '=' * 30
    print(split_line)
    print(f'Config: {args.config}')
    print(f'Input shape: {result["input_shape"]}')
    print(f'Flops: {result["flops_str"]} ({result["flops"]:,}, '
          'tensor-mode forward)')
    print(f'Params: {result["params_str"]}')
    print(f'Params (exact): {result["params"]}')
    for name, count in result['params_per_module'].items():
        if count:
            print(f'  {name}: {count}')
    print(split_line)
    print('Flops count one multiply-add as one op (mmengine convention) and '
          'depend on the input shape; check them before quoting them.')
    return result


if __name__ == '__main__':
    main()
