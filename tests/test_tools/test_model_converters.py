# Copyright (c) mmieee contributors.
"""Tests of tools/model_converters/ieee_official_to_mmieee.py.

The official checkpoint is synthesised here, key by key, with the module
names of the official implementation (github.com/ziwang1121/IEEE:
torchvision ResNet-18 streams here, small channel counts), and
``official_forward`` below re-implements the official eval-mode forward
with plain torch ops on that state dict. The converted checkpoint must load
strictly into a tiny official-variant mmieee model that then gives the same
features (official order T, R, N).
"""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F

import mmieee  # noqa: F401  (compat shims before mmpretrain)
from mmieee.utils import ConfigError, UnknownKeyError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'model_converters',
                'ieee_official_to_mmieee.py')

_spec = importlib.util.spec_from_file_location('ieee_official_to_mmieee',
                                               TOOL)
conv_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conv_tool)

M = 3
PARTS = 6
C_IN = 512  # ResNet-18
C_CA = 32  # CA hidden width, C_IN / 16 as officially
C_RED = 24  # "768"
C_OUT = 8  # "128"
NUM_CLASSES = 5
LETTERS = 'RNT'
# (planes, stride) of the 4 ResNet-18 stages; last stride 1 as officially
STAGES = ((64, 1), (128, 2), (256, 2), (512, 1))


# --------------------------------------------------------------------------
# a random state dict in the official key layout
# --------------------------------------------------------------------------
def _conv(gen, out_c, in_c, k=1):
    std = (2.0 / (in_c * k * k))**0.5
    return torch.randn(out_c, in_c, k, k, generator=gen) * std


def _bn(sd, prefix, c, gen):
    sd[f'{prefix}.weight'] = torch.rand(c, generator=gen) + 0.5
    sd[f'{prefix}.bias'] = torch.randn(c, generator=gen) * 0.1
    sd[f'{prefix}.running_mean'] = torch.randn(c, generator=gen) * 0.1
    sd[f'{prefix}.running_var'] = torch.rand(c, generator=gen) + 0.5
    sd[f'{prefix}.num_batches_tracked'] = torch.tensor(7)


def _linear(sd, prefix, out_c, in_c, gen):
    sd[f'{prefix}.weight'] = torch.randn(out_c, in_c, generator=gen) * \
        (1.0 / in_c)**0.5
    sd[f'{prefix}.bias'] = torch.randn(out_c, generator=gen) * 0.1


def official_state_dict(seed=0, conv_part_4d=False):
    """Official-layout keys (no ``module.``) with random values."""
    gen = torch.Generator().manual_seed(seed)
    sd = OrderedDict()
    for i in range(M):
        b = f'backbone.{i}'
        sd[f'{b}.conv1.weight'] = _conv(gen, 64, 3, 7)
        _bn(sd, f'{b}.bn1', 64, gen)
        in_c = 64
        for s, (planes, stride) in enumerate(STAGES, start=1):
            for j in range(2):
                blk = f'{b}.layer{s}.{j}'
                sd[f'{blk}.conv1.weight'] = _conv(gen, planes, in_c, 3)
                _bn(sd, f'{blk}.bn1', planes, gen)
                sd[f'{blk}.conv2.weight'] = _conv(gen, planes, planes, 3)
                _bn(sd, f'{blk}.bn2', planes, gen)
                if j == 0 and (stride != 1 or in_c != planes):
                    sd[f'{blk}.downsample.0.weight'] = _conv(
                        gen, planes, in_c)
                    _bn(sd, f'{blk}.downsample.1', planes, gen)
                in_c = planes
    for i in range(M):
        for name in ('convOne', 'convAvgRest'):
            sd[f'{name}.{i}.layers.0.weight'] = _conv(gen, C_IN, C_IN)
            _bn(sd, f'{name}.{i}.layers.1', C_IN, gen)
        sd[f'CA.{i}.fc.0.weight'] = _conv(gen, C_CA, C_IN)
        sd[f'CA.{i}.fc.2.weight'] = _conv(gen, C_IN, C_CA)
        sd[f'reduce_layer.{i}.layers.0.weight'] = _conv(gen, C_RED, C_IN)
        _bn(sd, f'reduce_layer.{i}.layers.1', C_RED, gen)
        sd[f'REM.{i}.param'] = torch.tensor([0.3 + 0.2 * i])  # non-zero
        for proj in ('conv_part', 'conv_query', 'conv_value'):
            _linear(sd, f'REM.{i}.{proj}', C_RED, C_RED, gen)
        if conv_part_4d:
            w = sd[f'REM.{i}.conv_part.weight']
            sd[f'REM.{i}.conv_part.weight'] = w[:, :, None, None]
    for letter in LETTERS:
        for p in range(PARTS):
            _linear(sd, f'fc_{letter}.{p}.0', C_OUT, C_RED, gen)
            _bn(sd, f'fc_{letter}.{p}.1', C_OUT, gen)
    for letter in LETTERS:
        for p in range(PARTS):
            _linear(sd, f'classifier_{letter}.{p}', NUM_CLASSES, C_OUT, gen)
    return sd


# --------------------------------------------------------------------------
# the official eval-mode forward, plain torch ops on the official state dict
# --------------------------------------------------------------------------
def _bn_eval(sd, prefix, x):
    return F.batch_norm(x, sd[f'{prefix}.running_mean'],
                        sd[f'{prefix}.running_var'], sd[f'{prefix}.weight'],
                        sd[f'{prefix}.bias'], training=False, eps=1e-5)


def _resnet18(sd, b, x):
    x = F.conv2d(x, sd[f'{b}.conv1.weight'], stride=2, padding=3)
    x = F.relu(_bn_eval(sd, f'{b}.bn1', x))
    x = F.max_pool2d(x, 3, stride=2, padding=1)
    for s, (_, stride) in enumerate(STAGES, start=1):
        for j in range(2):
            blk = f'{b}.layer{s}.{j}'
            st = stride if j == 0 else 1
            out = F.conv2d(x, sd[f'{blk}.conv1.weight'], stride=st, padding=1)
            out = F.relu(_bn_eval(sd, f'{blk}.bn1', out))
            out = F.conv2d(out, sd[f'{blk}.conv2.weight'], padding=1)
            out = _bn_eval(sd, f'{blk}.bn2', out)
            if f'{blk}.downsample.0.weight' in sd:
                x = F.conv2d(x, sd[f'{blk}.downsample.0.weight'], stride=st)
                x = _bn_eval(sd, f'{blk}.downsample.1', x)
            x = F.relu(out + x)
    return x


def _conv_bn_relu(sd, prefix, x):
    x = F.conv2d(x, sd[f'{prefix}.layers.0.weight'])
    return F.relu(_bn_eval(sd, f'{prefix}.layers.1', x))


def official_forward(sd, imgs):
    """imgs: (B, 3, 3, H, W) in stream order R, N, T -> (B, 3*P*C_OUT) in
    the official feature order T, R, N."""
    f = [_resnet18(sd, f'backbone.{i}', imgs[:, i]) for i in range(M)]
    per_mod = []
    for i, letter in enumerate(LETTERS):
        j, k = [n for n in range(M) if n != i]
        s = _conv_bn_relu(sd, f'convAvgRest.{i}', f[j] + f[k])

        def mlp(v):
            v = F.relu(F.conv2d(v, sd[f'CA.{i}.fc.0.weight']))
            return F.conv2d(v, sd[f'CA.{i}.fc.2.weight'])

        ca = torch.sigmoid(mlp(F.adaptive_avg_pool2d(s, 1)) +
                           mlp(F.adaptive_max_pool2d(s, 1)))
        x = _conv_bn_relu(sd, f'convOne.{i}', f[i]) + (ca * s + s)
        g = _conv_bn_relu(sd, f'reduce_layer.{i}',
                          F.adaptive_avg_pool2d(f[i], 1)).flatten(1)
        parts = _conv_bn_relu(sd, f'reduce_layer.{i}',
                              F.adaptive_avg_pool2d(x, (PARTS, 1)))
        w = sd[f'REM.{i}.conv_part.weight'].flatten(1)
        glob = F.linear(g, w, sd[f'REM.{i}.conv_part.bias'])
        hs = []
        for p in range(PARTS):
            e = parts[:, :, p, 0] + sd[f'REM.{i}.param'] * 2 * glob
            h = F.linear(e, sd[f'fc_{letter}.{p}.0.weight'],
                         sd[f'fc_{letter}.{p}.0.bias'])
            hs.append(F.relu(_bn_eval(sd, f'fc_{letter}.{p}.1', h)))
        per_mod.append(torch.cat(hs, dim=1))
    r, n, t = per_mod
    return torch.cat([t, r, n], dim=1)


# --------------------------------------------------------------------------
# the tiny official-variant mmieee model
# --------------------------------------------------------------------------
MODEL_CFG = dict(
    type='MultiModalReID',
    backbone=dict(
        type='MultiStreamBackbone',
        num_modalities=M,
        backbone=dict(
            type='mmpretrain.ResNet',
            depth=18,
            strides=(1, 2, 2, 1),
            out_indices=(3, ))),
    neck=dict(
        type='IEEENeck',
        num_modalities=M,
        in_channels=C_IN,
        reduce_channels=C_RED,
        out_channels=C_OUT,
        num_parts=PARTS,
        cim=dict(type='CrossModalInteraction', ca_ratio=C_IN // C_CA),
        rem=dict(type='RelationEmbedding', variant='official'),
        global_source='backbone'),
    head=dict(
        type='IEEEHead',
        num_classes=NUM_CLASSES,
        num_modalities=M,
        num_parts=PARTS,
        in_channels=C_OUT,
        metric_losses=[]))


def build_model(cfg=MODEL_CFG):
    from mmengine.registry import DefaultScope

    from mmieee.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmieee'):
        return MODELS.build(cfg)


def dropped_official_keys(sd):
    return [k for k in sd if '.conv_query.' in k or '.conv_value.' in k]


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------
def test_mapping_of_every_key():
    sd = official_state_dict()
    new, dropped = conv_tool.convert_official_state_dict(sd)
    assert dropped == dropped_official_keys(sd)
    assert len(new) == len(sd) - len(dropped)
    # spot checks of each rule, values passed through unchanged
    pairs = {
        'backbone.2.layer4.0.downsample.1.running_var':
        'backbone.streams.2.layer4.0.downsample.1.running_var',
        'backbone.0.conv1.weight': 'backbone.streams.0.conv1.weight',
        'convOne.1.layers.0.weight': 'neck.cim.own_convs.1.conv.weight',
        'convOne.1.layers.1.num_batches_tracked':
        'neck.cim.own_convs.1.bn.num_batches_tracked',
        'convAvgRest.2.layers.1.running_mean':
        'neck.cim.other_convs.2.bn.running_mean',
        'CA.0.fc.0.weight': 'neck.cim.channel_attentions.0.reduce.conv.weight',
        'CA.0.fc.2.weight': 'neck.cim.channel_attentions.0.expand.conv.weight',
        'reduce_layer.1.layers.0.weight': 'neck.reduce_layers.1.conv.weight',
        'reduce_layer.1.layers.1.bias': 'neck.reduce_layers.1.bn.bias',
        'REM.2.param': 'neck.rems.2.gamma',
        'REM.2.conv_part.weight': 'neck.rems.2.global_proj.weight',
        'REM.2.conv_part.bias': 'neck.rems.2.global_proj.bias',
        'fc_R.0.0.weight': 'neck.part_fcs.0.0.0.weight',
        'fc_N.3.1.running_var': 'neck.part_fcs.1.3.1.running_var',
        'fc_T.5.0.bias': 'neck.part_fcs.2.5.0.bias',
        'classifier_R.1.weight': 'head.classifiers.0.1.weight',
        'classifier_N.2.bias': 'head.classifiers.1.2.bias',
        'classifier_T.5.weight': 'head.classifiers.2.5.weight',
    }
    for old, target in pairs.items():
        assert torch.equal(new[target], sd[old]), old
    assert not any(k.startswith(('REM', 'fc_', 'classifier_', 'CA.'))
                   for k in new)


def test_strict_load_and_features_match_official_forward():
    sd = official_state_dict(seed=1)
    new, _ = conv_tool.convert_official_state_dict(sd)
    model = build_model()
    result = model.load_state_dict(new, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    model.eval()
    torch.manual_seed(0)
    imgs = torch.randn(2, M, 3, 96, 48)  # 6 x 3 final map: 6 clean stripes
    with torch.no_grad():
        ours = model(imgs, mode='tensor')
        ref = official_forward(sd, imgs)
    assert ours.shape == (2, M * PARTS * C_OUT)
    # ours is R, N, T; official is T, R, N
    ours_trn = ours.view(2, M, -1)[:, [2, 0, 1]].flatten(1)
    assert ref.abs().max() > 0.1  # the comparison is not vacuous
    torch.testing.assert_close(ours_trn, ref, rtol=1e-4, atol=1e-5)


def test_conv_part_stored_as_1x1_conv():
    sd4 = official_state_dict(seed=2, conv_part_4d=True)
    sd2 = official_state_dict(seed=2, conv_part_4d=False)
    new4, _ = conv_tool.convert_official_state_dict(sd4)
    new2, _ = conv_tool.convert_official_state_dict(sd2)
    assert new4['neck.rems.0.global_proj.weight'].shape == (C_RED, C_RED)
    for k in new2:
        assert torch.equal(new4[k], new2[k]), k
    bad = OrderedDict({'REM.0.conv_part.weight': torch.zeros(4, 4, 3, 3)})
    with pytest.raises(ValueError, match=r'REM.0.conv_part.weight.*3, 3'):
        conv_tool.convert_official_state_dict(bad)


def test_module_prefix_round_trip():
    sd = official_state_dict(seed=3)
    plain, dropped_plain = conv_tool.convert_official_state_dict(sd)
    prefixed = OrderedDict((f'module.{k}', v) for k, v in sd.items())
    wrapped, dropped_wrapped = conv_tool.convert_official_state_dict(prefixed)
    assert list(plain) == list(wrapped)
    assert dropped_plain == dropped_wrapped
    assert all(torch.equal(plain[k], wrapped[k]) for k in plain)
    both = OrderedDict(prefixed)
    both['REM.0.param'] = sd['REM.0.param']
    with pytest.raises(ConfigError, match='REM.0.param'):
        conv_tool.convert_official_state_dict(both)


def test_unknown_keys():
    sd = official_state_dict(seed=4)
    sd['module.bottleneck.weight'] = torch.zeros(3)
    sd['convOne.0.layers.0.bias'] = torch.zeros(3)  # official convs: no bias
    with pytest.raises(UnknownKeyError) as err:
        conv_tool.convert_official_state_dict(sd, source='ckpt.pth')
    assert str(err.value) == (
        '2 key(s) of ckpt.pth are not in the official IEEE layout: '
        'bottleneck.weight, convOne.0.layers.0.bias. Pass --allow-unknown '
        '(allow_unknown=True) to drop them.')
    assert err.value.keys == ['bottleneck.weight', 'convOne.0.layers.0.bias']
    new, dropped = conv_tool.convert_official_state_dict(
        sd, allow_unknown=True)
    assert 'bottleneck.weight' in dropped
    assert 'convOne.0.layers.0.bias' in dropped
    assert not any('bottleneck' in k for k in new)
    assert 'not part of the official layout' in conv_tool.drop_reason(
        'module.bottleneck.weight')


def test_unused_backbone_fc_is_dropped_with_reason():
    sd = official_state_dict(seed=7)
    sd['module.backbone.1.fc.weight'] = torch.zeros(1000, C_IN)
    sd['backbone.1.fc.bias'] = torch.zeros(1000)
    new, dropped = conv_tool.convert_official_state_dict(sd)
    assert dropped[-2:] == ['backbone.1.fc.weight', 'backbone.1.fc.bias']
    assert not any('.fc.' in k for k in new)
    assert 'ImageNet classifier' in conv_tool.drop_reason(
        'backbone.1.fc.weight')
    assert 'softmax over one' in conv_tool.drop_reason(
        'module.REM.0.conv_value.bias')


def _run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_cli_as_script(tmp_path):
    """One real run of the script (the rest call ``main`` in-process)."""
    sd = OrderedDict(
        (f'module.{k}', v) for k, v in official_state_dict(seed=5).items())
    src = tmp_path / 'model.pth.tar-60'
    # torchreid saves extra entries next to the weights
    torch.save(dict(state_dict=sd, epoch=60, rank1=0.4713), src)
    dst = tmp_path / 'out.pth'
    proc = _run_tool(str(src), str(dst))
    assert proc.returncode == 0, proc.stderr
    assert 'REM.0.conv_query.weight' in proc.stdout
    assert 'Dropped 12 official key(s)' in proc.stdout
    out = torch.load(dst, weights_only=True)
    expect, dropped = conv_tool.convert_official_state_dict(sd)
    assert list(out['state_dict']) == list(expect)
    assert out['meta']['dropped_keys'] == dropped


def test_cli_bare_state_dict_and_unknown_key(tmp_path, capsys):
    sd = official_state_dict(seed=5)
    src, dst = tmp_path / 'bare.pth', tmp_path / 'out.pth'
    torch.save(sd, src)
    conv_tool.main([str(src), str(dst)])
    out = torch.load(dst, weights_only=True)
    assert list(out['state_dict']) == list(
        conv_tool.convert_official_state_dict(sd)[0])
    assert 'conv_value' in capsys.readouterr().out

    sd['module.extra.weight'] = torch.zeros(1)
    torch.save(sd, src)
    with pytest.raises(SystemExit) as exc:
        conv_tool.main([str(src), str(tmp_path / 'no.pth')])
    assert exc.value.code == 2
    assert capsys.readouterr().err == (
        f'Error: 1 key(s) of {src} are not in the official IEEE layout: '
        'extra.weight. Pass --allow-unknown (allow_unknown=True) to drop '
        'them.\n')
    assert not (tmp_path / 'no.pth').exists()
    conv_tool.main([str(src), str(dst), '--allow-unknown'])
    meta = torch.load(dst, weights_only=True)['meta']
    assert 'extra.weight' in meta['dropped_keys']
    assert meta['modalities'] == ['RGB', 'NI', 'TI']


def test_allow_unknown_with_nothing_to_convert_is_an_error(tmp_path,
                                                           capsys):
    src, dst = tmp_path / 'resnet.pth', tmp_path / 'out.pth'
    torch.save({'conv1.weight': torch.zeros(1), 'fc.bias': torch.zeros(2)},
               src)
    with pytest.raises(SystemExit) as exc:
        conv_tool.main([str(src), str(dst), '--allow-unknown'])
    assert exc.value.code == 2
    assert f'Error: nothing to convert: none of the 2 keys of {src}' in \
        capsys.readouterr().err
    assert not dst.exists()


def test_refused_file_and_missing_file_are_error_lines(tmp_path, capsys):
    """A refused checkpoint ended in a traceback with torch's advice to
    load with weights_only=False."""
    marker = tmp_path / 'ran'

    class Evil:
        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    src = tmp_path / 'model.pth.tar-60'
    torch.save({'state_dict': {'a': torch.zeros(1)}, 'x': Evil()}, src)
    for path, expected in ((src, f'Error: Refusing to load checkpoint {src}'),
                           (tmp_path / 'none', "Error: checkpoint '")):
        with pytest.raises(SystemExit) as exc:
            conv_tool.main([str(path), str(tmp_path / 'out.pth')])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(expected) and 'weights_only' not in err
    assert not marker.exists() and not (tmp_path / 'out.pth').exists()


@pytest.mark.parametrize('bad', ['missing file', 'unknown key'])
def test_bad_input_is_one_error_line_as_a_command(tools, tmp_path, bad):
    """Run as users run it: exit status 2, one ``Error:`` line naming the
    file (and the key), no traceback, no output file."""
    src, dst = tmp_path / 'model.pth.tar-60', tmp_path / 'out.pth'
    if bad == 'missing file':
        expected = f"Error: checkpoint '{src}' does not exist"
    else:
        sd = official_state_dict(seed=8)
        sd['module.extra.weight'] = torch.zeros(1)
        torch.save(dict(state_dict=sd, epoch=60), src)
        expected = (f'Error: 1 key(s) of {src} are not in the official IEEE '
                    'layout: extra.weight. Pass --allow-unknown')
    proc = tools.run([TOOL, src, dst], check=False, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(expected), proc.stderr
    assert proc.stderr.count('\n') == 1, proc.stderr
    assert not dst.exists()


def test_cli_check_config(tmp_path, capsys):
    src = tmp_path / 'official.pth'
    torch.save(dict(state_dict=official_state_dict(seed=6)), src)
    cfg = tmp_path / 'tiny_official.py'
    cfg.write_text(f'default_scope = "mmieee"\nmodel = {MODEL_CFG!r}\n')
    conv_tool.main(
        [str(src), str(tmp_path / 'ok.pth'), '--check-config', str(cfg)])
    assert 'loads strictly' in capsys.readouterr().out

    bad_cfg = dict(MODEL_CFG, head=dict(MODEL_CFG['head'], num_classes=7))
    cfg.write_text(f'default_scope = "mmieee"\nmodel = {bad_cfg!r}\n')
    with pytest.raises(SystemExit) as exc:
        conv_tool.main(
            [str(src), str(tmp_path / 'bad.pth'), '--check-config', str(cfg)])
    assert exc.value.code == 2
    assert 'keys with another shape: head.classifiers.0.0.weight ' \
        '(checkpoint (5, 8), model' in capsys.readouterr().err
    assert not (tmp_path / 'bad.pth').exists()
