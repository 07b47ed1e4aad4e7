# Copyright (c) mmieee contributors.
"""Tests of tools/analysis_tools/get_flops.py on a tiny temporary config.

FLOPs are checked against an independent count taken at the torch-function
level while the model runs (conv / linear multiply-adds, BatchNorm and
adaptive pooling by mmengine's conventions). Parameters against ``numel``
sums and, for the full-size model, against the official checkpoint layout.
"""
import importlib.util
import os.path as osp
import re

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch.overrides import TorchFunctionMode

import mmieee  # noqa: F401  (compat shims before mmpretrain)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'get_flops.py')
_spec = importlib.util.spec_from_file_location('get_flops', TOOL)
get_flops = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(get_flops)


def tiny_model_cfg(num_classes=5, modalities=('RGB', 'NI', 'TI')):
    return dict(
        type='MultiModalReID',
        modalities=modalities,
        backbone=dict(
            type='MultiStreamBackbone',
            backbone=dict(
                type='mmpretrain.ResNet',
                depth=18,
                strides=(1, 2, 2, 1),
                out_indices=(3, ))),
        neck=dict(
            type='IEEENeck',
            in_channels=512,
            reduce_channels=32,
            out_channels=8,
            num_parts=6,
            cim=dict(type='CrossModalInteraction'),
            rem=dict(type='RelationEmbedding', variant='official')),
        head=dict(
            type='IEEEHead',
            num_classes=num_classes,
            num_parts=6,
            in_channels=8,
            metric_losses=[
                dict(type='CenterLoss', num_classes=num_classes,
                     feat_dim=len(modalities) * 6 * 8)
            ]))


def write_cfg(tmp_path, **kwargs):
    path = tmp_path / 'tiny_cfg.py'
    path.write_text('default_scope = "mmieee"\n'
                    f'model = {tiny_model_cfg(**kwargs)!r}\n')
    return str(path)


class CountOps(TorchFunctionMode):
    """Count, at the torch-function level, what mmengine's analyzer counts:
    multiply-adds of conv / linear, 2 per element for an affine BatchNorm in
    eval mode, 1 per input element of adaptive average pooling (element-wise
    ops, max pooling, mean/amax are not counted)."""

    def __init__(self):
        super().__init__()
        self.total = 0
        self.seen = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func is F.conv2d:
            self.total += out.numel() * args[1][0].numel()
        elif func is F.linear:
            self.total += out.numel() * args[1].shape[1]
        elif func is F.batch_norm:
            weight = args[3] if len(args) > 3 else kwargs.get('weight')
            self.total += args[0].numel() * (2 if weight is not None else 1)
        elif func is F.adaptive_avg_pool2d:
            self.total += args[0].numel()
        self.seen.add(getattr(func, '__name__', str(func)))
        return out


def count_flops(model, inputs):
    with torch.no_grad(), CountOps() as counter:
        model(inputs, mode='tensor')
    # the model must not use ops this counter ignores but mmengine counts
    assert not counter.seen & {'matmul', 'mm', 'bmm', 'einsum', 'addmm',
                               'layer_norm', 'group_norm', 'interpolate'}
    return counter.total


@pytest.mark.parametrize('modalities', [('RGB', 'NI', 'TI'), ('RGB', 'TI')])
def test_counts_match_independent_computation(tmp_path, modalities):
    # 96 x 32 gives 6-row maps, one per part
    cfg = Config.fromfile(write_cfg(tmp_path, modalities=modalities))
    result = get_flops.get_complexity(cfg, shape=(96, 32), show_table=False)
    M = len(modalities)
    assert result['input_shape'] == (1, M, 3, 96, 32)

    model = get_flops.build_model(cfg)
    assert result['params'] == sum(p.numel() for p in model.parameters())
    per_module = result['params_per_module']
    for name in ('backbone', 'neck', 'head'):
        assert per_module[name] == sum(
            p.numel() for p in getattr(model, name).parameters())
    # head: M*P classifiers (8 -> 5) and the center loss' (5, M*48) centres
    assert per_module['head'] == M * 6 * (8 * 5 + 5) + 5 * M * 48

    expect = count_flops(model, torch.randn(1, M, 3, 96, 32))
    assert expect > 10**7
    assert result['flops'] == expect


def test_cli_prints_table_and_exact_params(tmp_path, capsys):
    cfg_path = write_cfg(tmp_path)
    result = get_flops.main([cfg_path, '--shape', '96', '32',
                             '--num-classes', '9'])
    out = capsys.readouterr().out
    assert 'neck.cim' in out and '#parameters' in out  # mmengine's table
    printed = int(re.search(r'Params \(exact\): (\d+)', out).group(1))
    cfg = Config.fromfile(cfg_path)
    get_flops.set_num_classes(cfg, 9)
    model = get_flops.build_model(cfg)
    assert model.head.metric_losses[0].centers.shape[0] == 9
    assert printed == result['params'] == sum(
        p.numel() for p in model.parameters())
    assert f'{result["flops"]:,}' in out
    with pytest.raises(ValueError, match='--shape'):
        get_flops.get_complexity(cfg, shape=(0, 32))


def test_full_size_parameter_count_from_official_layout():
    """The count get_flops prints for the full official-variant model with
    171 ids, derived from the official checkpoint layout minus the dead REM
    query/value maps (cheap: parameters only, no FLOP trace)."""
    cfg = dict(
        type='MultiModalReID',
        backbone=dict(type='MultiStreamBackbone'),
        neck=dict(type='IEEENeck'),
        head=dict(type='IEEEHead', num_classes=171, metric_losses=[]))
    model = get_flops.build_model(Config(dict(model=cfg)))
    resnet50_no_fc = 25557032 - (2048 * 1000 + 1000)
    cim = 2 * (2048 * 2048 + 2 * 2048) + 2 * 2048 * 128
    reduce = 768 * 2048 + 2 * 768
    rem_live = 1 + 768 * 768 + 768
    part_fcs = 6 * (768 * 128 + 128 + 2 * 128)
    classifiers = 6 * (128 * 171 + 171)
    expect = 3 * (resnet50_no_fc + cim + reduce + rem_live + part_fcs +
                  classifiers)
    assert expect == 105955785
    assert sum(p.numel() for p in model.parameters()) == expect


def test_models_with_a_camera_embedding():
    """The DeMo demo model needs camera ids: the tool gives camera 0 to the
    (1, M, 3, H, W) input, whose FLOPs do not depend on the id."""
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'demo',
                 'demo_vit-tiny_1xb32-20e_synthetic-demo.py'))
    result = get_flops.get_complexity(cfg, shape=(64, 32), show_table=False)
    model = get_flops.build_model(cfg)
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert result['flops'] > 10**7
