# Copyright (c) mmieee contributors.
"""tools/model_converters/topreid_official_to_mmieee.py as a command: every
official key placed or dropped with its reason, ``module.`` prefixes,
unknown keys and unsafe files refused by name; the values' equality with the
official code is tested in
tests/test_models/test_reid/test_topreid_official_equality.py."""
import argparse
import json
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import mmieee  # noqa: F401
from mmieee.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
TOOL = 'tools/model_converters/topreid_official_to_mmieee.py'
KEYS = REPO / 'tests' / 'data' / 'topreid' / 'topreid_rgbnt201_keys.json'
DEMO = REPO / 'configs' / 'topreid' / \
    'topreid_vit-tiny_1xb32-30e_synthetic-demo.py'

#: mmieee -> official names, written out independently of the tool.
_INVERSE = [
    (r'\.ffn\.layers\.0\.0\.', '.mlp.fc1.'),
    (r'\.ffn\.layers\.1\.', '.mlp.fc2.'),
    (r'backbone\.streams\.(\d)\.', lambda m: 'RGB NI TI'.split()[int(m[1])]
     + '.base.'),
    (r'\.camera_embed$', '.sie_embed'),
    (r'\.patch_embed\.projection\.', '.patch_embed.proj.'),
    (r'\.layers\.(\d+)\.', r'.blocks.\1.'),
    (r'base\.ln1\.', 'base.norm.'),
    (r'neck\.tpm\.blocks\.(\d)\.', lambda m: 'TPM.Ro_' + (
        'start', 'middle', 'end')[int(m[1])] + '.Rotation.'),
    (r'neck\.crm\.units\.(\d)_to_(\d)\.(\d+)\.', lambda m: 'CRM.' + {
        '01': 'RGBRE.re1', '02': 'RGBRE.re2', '10': 'NIRE.re1',
        '12': 'NIRE.re2', '20': 'TIRE.re1', '21': 'TIRE.re2'
    }[m[1] + m[2]] + f'.blocks.{m[3]}.'),
    (r'\.ln1\.', '.norm1.'), (r'\.ln2\.', '.norm2.'),
    (r'\.attn\.ln_kv\.', '.attn.normy.'), (r'\.attn\.([qkv])\.',
                                           r'.attn.\1_.'),
    (r'head\.(bnnecks|classifiers)\.(tpm|cls)\.', lambda m: (
        'bottleneck_' if m[1] == 'bnnecks' else 'classifier_') + (
            'TPM' if m[2] == 'tpm' else 'ViT') + '.'),
]


def to_official(key: str) -> str:
    for pattern, repl in _INVERSE:
        key = re.sub(pattern, repl, key)
    return key


def _demo_model():
    cfg = Config.fromfile(str(DEMO))
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def test_official_layout_of_the_demo_model_converts_back(tools, tmp_path):
    """The demo model's weights under the official names, with ``module.``
    and the official-only keys, convert to a checkpoint that loads strictly
    into the demo config (--check-config) with the same values."""
    model = _demo_model()
    state = model.state_dict()
    official = {'module.' + to_official(k): v for k, v in state.items()}
    assert 'module.TPM.Ro_middle.Rotation.attn.q_.weight' in official
    assert 'module.CRM.TIRE.re2.blocks.0.attn.qkv.weight' in official
    for stream in ('RGB', 'NI', 'TI'):  # what the converter must drop
        official[f'module.{stream}.base.fc.weight'] = torch.zeros(10, 96)
        official[f'module.{stream}.base.fc.bias'] = torch.zeros(10)
        official[f'module.{stream}.classifier.weight'] = torch.zeros(40, 96)
        for buf in ('weight', 'bias', 'running_mean', 'running_var'):
            official[f'module.{stream}.bottleneck.{buf}'] = torch.zeros(96)
        official[f'module.{stream}.bottleneck.num_batches_tracked'] = \
            torch.tensor(0)
    torch.save(official, tmp_path / 'official.pth')
    proc = tools.run([TOOL, tmp_path / 'official.pth', tmp_path / 'out.pth',
                     '--check-config', DEMO])
    assert f'Converted {len(state)} tensors' in proc.stdout
    assert 'Dropped 24 official key(s)' in proc.stdout
    assert 'RGB.base.fc.weight  (the stream\'s ImageNet classifier' in \
        proc.stdout
    assert 'TI.bottleneck.running_var  (the stream\'s own head' in proc.stdout
    assert 'OK: loads strictly' in proc.stdout
    out = torch.load(tmp_path / 'out.pth', weights_only=True)
    assert out['meta']['direct'] == 1 and len(
        out['meta']['dropped_keys']) == 24
    assert out['state_dict'].keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(out['state_dict'][key], value), key


def test_every_official_key_is_placed_or_dropped():
    """All 600 official keys (no tensors needed): 576 placed, 24 dropped
    with DIRECT 1; 588 / 12 with DIRECT 0 (the streams' heads kept)."""
    conv = _tool_module()
    keys = [k for k, _ in json.loads(KEYS.read_text())]
    fake = {k: torch.zeros(1) for k in keys}
    new, dropped = conv.convert_official_state_dict(fake)
    assert (len(new), len(dropped)) == (576, 24)
    assert all(k.startswith(('backbone.', 'neck.', 'head.')) for k in new)
    new, dropped = conv.convert_official_state_dict(fake, direct=0)
    assert (len(new), len(dropped)) == (588, 12)
    assert 'head.bnnecks.cls_2.running_mean' in new
    assert 'head.classifiers.cls_0.weight' in new
    assert {k for k, _ in dropped} >= {'bottleneck_ViT.weight',
                                       'classifier_ViT.weight'}


def _tool_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('conv', REPO / TOOL)
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)
    return conv


def test_unknown_keys_are_one_error_line(tools, tmp_path):
    """As a command: ``Error: ...`` naming the file and the keys, exit
    status 2, no traceback, nothing written."""
    src = tmp_path / 'bad.pth'
    torch.save({'TPM.Ro_start.Rotation.norm1.weight': torch.ones(2),
                'RGB.base.extra.weight': torch.ones(2),
                'something_else': torch.ones(1)}, src)
    proc = tools.run([TOOL, src, tmp_path / 'out.pth'], check=False)
    assert proc.returncode == 2
    assert proc.stderr == (
        f'Error: 2 key(s) of {src} are not in the official TOP-ReID layout: '
        'RGB.base.extra.weight, something_else. Pass --allow-unknown '
        '(allow_unknown=True) to drop them.\n')
    assert not (tmp_path / 'out.pth').exists()


def test_allow_unknown_drops_and_lists_the_keys(tmp_path):
    """As the IEEE and DeMo converters: the unknown keys are dropped in
    file order, with the reason 'unknown', and the rest converts."""
    conv = _tool_module()
    keys = [k for k, _ in json.loads(KEYS.read_text())]
    fake = {k: torch.zeros(1) for k in keys}
    fake['something_else'] = torch.zeros(1)
    new, dropped = conv.convert_official_state_dict(fake, allow_unknown=True)
    assert len(new) == 576 and len(dropped) == 25
    assert dropped[-1] == ('something_else', 'unknown')


def test_missing_file_is_one_error_line(tools, tmp_path):
    src = tmp_path / 'RGBNT201_best.pth'
    proc = tools.run([TOOL, src, tmp_path / 'out.pth'], check=False)
    assert proc.returncode == 2
    assert proc.stderr == f"Error: checkpoint '{src}' does not exist\n"
    assert not (tmp_path / 'out.pth').exists()


def test_colliding_prefixes_and_unsafe_files_are_named(tmp_path, capsys):
    conv = _tool_module()
    out = tmp_path / 'out.pth'
    torch.save({'a.weight': torch.ones(1), 'module.a.weight': torch.ones(1)},
               tmp_path / 'twice.pth')
    # an object beyond tensors needs the full unpickler: refused
    torch.save({'x': argparse.Namespace(a=1)}, tmp_path / 'unsafe.pth')
    for name, expected in (
            ('twice.pth', f'Error: {tmp_path / "twice.pth"} holds both '
             '"a.weight" and "module.a.weight"'),
            ('unsafe.pth', 'Error: Refusing to load checkpoint '
             f'{tmp_path / "unsafe.pth"}')):
        with pytest.raises(SystemExit) as exc:
            conv.main([str(tmp_path / name), str(out)])
        assert exc.value.code == 2
        assert capsys.readouterr().err.startswith(expected)
    assert not out.exists()
