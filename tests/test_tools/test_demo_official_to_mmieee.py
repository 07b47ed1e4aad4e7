# Copyright (c) mmieee contributors.
"""DeMo equals the official code: tools/model_converters/
demo_official_to_mmieee.py, the model of
configs/demo/demo_vit-b16-clip_1xb64-50e_rgbnt201.py and the CLIP
initializer, compared with outputs of the official implementation.

The official run (github.com/924973292/DeMo at b4f323a, CPU, fp32; details
in tests/data/demo/README.md): the official RGBNT201 model
(``configs/RGBNT201/DeMo.yml``: CLIP ViT-B/16, 4 cameras, 171 ids,
``DIRECT=1``, ``HEAD=4``) was built from a CLIP file holding
``seeded_state_dict(clip_vit_b16_keys)``, loaded with
``seeded_state_dict(demo_rgbnt201_keys)`` (every tensor a function of its key
and shape, ``mmieee.testing.seeded_weights``), the dropout of its 7 HDM
attentions set to 0, and run on ``torch.randn(4, 3, 3, 256, 128,
generator=torch.Generator().manual_seed(0))`` (already normalised RGB / NI /
TI), camera ids [0, 1, 2, 3], labels [0, 0, 1, 1]: eval features for
``return_pattern`` 1, 2, 3, for each ``TEST.MISS`` value, with the gate's
query and key weights x30 (gates from 0.02 to 0.41, so that a mix-up of
gates, heads or experts shows), with the backbone as the official CLIP
loader made it; and the training loss with every term. The command was
``python make_fixtures.py`` in a scratch copy of the official repository
with three CPU-only patches that change no arithmetic (see the README); its
summaries (``mmieee.testing.summarize``) are
tests/data/demo/demo_rgbnt201_reference.json.

Here the same seeded state dict is converted with the tool, loaded strictly
into the model built from the config (``init_cfg`` removed), and every
output is compared with ``relative_difference`` < 1e-4.
"""
import copy
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401  (compat shims before mmpretrain)
from mmieee.models.backbones import ReIDViT
from mmieee.registry import MODELS
from mmieee.testing.seeded_weights import (relative_difference,
                                           seeded_state_dict, summarize)
from mmieee.utils import UnknownKeyError

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / 'tests' / 'data' / 'demo'
CONFIG = REPO / 'configs' / 'demo' / 'demo_vit-b16-clip_1xb64-50e_rgbnt201.py'
VEHICLE_CONFIG = (REPO / 'configs' / 'demo' /
                  'demo_vit-b16-clip_1xb128-30e_rgbnt100.py')
TOL = 1e-4
MODALITIES = ('RGB', 'NI', 'TI')
#: Official TEST.MISS values -> the modalities mmieee blanks.
MISS = {
    'r': ['RGB'],
    'n': ['NI'],
    'rn': ['RGB', 'NI'],
    't': ['TI'],
    'rt': ['RGB', 'TI'],
    'nt': ['NI', 'TI']
}
HDM_NAMES = ('R', 'N', 'T', 'RN', 'RT', 'NT', 'RNT')

_spec = importlib.util.spec_from_file_location(
    'demo_official_to_mmieee',
    REPO / 'tools' / 'model_converters' / 'demo_official_to_mmieee.py')
converter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(converter)


def _keys(name):
    return [(k, s) for k, s in json.loads((DATA / name).read_text())]


def _model_cfg(config=CONFIG):
    cfg = copy.deepcopy(Config.fromfile(str(config)).model)
    cfg.backbone.backbone.pop('init_cfg')
    return cfg


def _without_dropout(model):
    for attention in model.neck.hdm.attentions:
        attention.dropout = 0.0
    return model


@pytest.fixture(scope='module')
def reference():
    return json.loads((DATA / 'demo_rgbnt201_reference.json').read_text())


@pytest.fixture(scope='module')
def official():
    return seeded_state_dict(_keys('demo_rgbnt201_keys.json'))


@pytest.fixture(scope='module')
def model(official):
    state_dict, dropped = converter.convert_official_state_dict(official)
    assert dropped == []
    model = MODELS.build(_model_cfg())
    model.load_state_dict(state_dict, strict=True)
    return _without_dropout(model).eval()


def inputs():
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(4, 3, 3, 256, 128, generator=gen)
    samples = []
    for camid, label in zip((0, 1, 2, 3), (0, 0, 1, 1)):
        sample = DataSample(
            metainfo=dict(camid=camid, modalities=MODALITIES))
        samples.append(sample.set_gt_label(label))
    return images, samples


def _close(ours, ref, what):
    diff = relative_difference(summarize(ours), ref)
    assert diff < TOL, f'{what}: relative difference {diff:.2e}'
    return diff


def test_test_features_and_intermediates(model, reference):
    """The default 5120-d feature (predict mode, camera ids from the data
    samples), the return_pattern variants through head.test_feature, and
    on the way the PIFE globals, the 7 HDM features and the gates."""
    seen = {}
    hooks = [
        model.neck.register_forward_hook(
            lambda m, i, o: seen.__setitem__('feats', o)),
        model.neck.pife.register_forward_hook(
            lambda m, i, o: seen.__setitem__('pife', o)),
        model.neck.hdm.register_forward_hook(
            lambda m, i, o: seen.__setitem__('hdm', o)),
        model.neck.atmoe.register_forward_hook(
            lambda m, i, o: seen.__setitem__('gates', o[1])),
    ]
    images, samples = inputs()
    try:
        with torch.no_grad():
            out = model(images, samples, mode='predict')
    finally:
        for hook in hooks:
            hook.remove()
    ref = reference['eval']
    feats = seen['feats']
    default = torch.stack([s.pred_feature for s in out])
    assert default.shape == (4, 5120)
    _close(default, ref['return_pattern_3'], 'return_pattern 3')
    head = model.head
    for pattern, names in ((1, ('ori', )), (2, ('moe', )), (3, ('ori',
                                                                'moe'))):
        saved, head.test_feature = head.test_feature, names
        try:
            _close(head.test_features(feats), ref[f'return_pattern_{pattern}'],
                   f'return_pattern {pattern}')
        finally:
            head.test_feature = saved
    inter = ref['intermediates']
    for m, name in enumerate(MODALITIES):
        _close(seen['pife'][m], inter[f'{name}_pife_global'],
               f'PIFE global {name}')
    for k, name in enumerate(HDM_NAMES):
        _close(seen['hdm'][:, k], inter[f'hdm_{name}'], f'HDM {name}')
    gates = torch.tensor(inter['gates'])  # (B, HEAD, 7)
    torch.testing.assert_close(seen['gates'], gates, rtol=TOL, atol=1e-6)


@pytest.mark.parametrize('miss', sorted(MISS))
def test_missing_modalities_equal_official_zero_filling(model, reference,
                                                        miss):
    """test_cfg.blank_modalities (zeros after normalisation) is the
    official TEST.MISS, for every subset."""
    images, _ = inputs()
    model.set_blank_modalities(MISS[miss])
    try:
        with torch.no_grad():
            feats = model(images, mode='tensor',
                          camids=torch.tensor([0, 1, 2, 3]))
    finally:
        model.set_blank_modalities(())
    _close(feats, reference['missing_modalities']['return_pattern_3'][miss],
           f'TEST.MISS={miss}')


def test_sharpened_gates(model, reference):
    """Gates far from uniform: a gate / head / expert mix-up would show."""
    atmoe = model.neck.atmoe
    saved = [atmoe.gate_query.weight.clone(), atmoe.gate_key.weight.clone()]
    seen = {}
    hook = atmoe.register_forward_hook(
        lambda m, i, o: seen.__setitem__('gates', o[1]))
    images, samples = inputs()
    try:
        with torch.no_grad():
            atmoe.gate_query.weight.mul_(30)
            atmoe.gate_key.weight.mul_(30)
            feats = model.extract_feat(images, samples)
    finally:
        hook.remove()
        with torch.no_grad():
            atmoe.gate_query.weight.copy_(saved[0])
            atmoe.gate_key.weight.copy_(saved[1])
    gates = seen['gates']
    ref = reference['eval_gate_sharpened']
    want = torch.tensor(ref['gates'])
    assert float(want.max()) > 0.4 and float(want.min()) < 0.03
    torch.testing.assert_close(gates, want, rtol=TOL, atol=1e-6)
    _close(model.head.test_features(feats), ref['return_pattern_3'],
           'sharpened gates')


def test_training_loss_terms_sum_to_the_official_total(model, reference):
    ref = reference['training']['loss_terms']
    images, samples = inputs()
    model.train()
    try:
        with torch.no_grad():
            losses = model(images, samples, mode='loss')
    finally:
        model.eval()
    # the head's CE term carries ID_LOSS_WEIGHT 0.25; the official fixture
    # stores the unweighted CE
    for ours, theirs, weight in (
        ('loss_ce_moe', 'moe_id_ce_label_smooth', 0.25),
        ('loss_triplet_moe', 'moe_triplet_soft_margin', 1.0),
        ('loss_ce_ori', 'ori_id_ce_label_smooth', 0.25),
        ('loss_triplet_ori', 'ori_triplet_soft_margin', 1.0),
    ):
        _close(losses[ours] / weight, ref[theirs], ours)
    assert float(losses['loss_moe']) == ref['loss_moe_regularisation'][
        'value'] == 0.0
    total = sum(v for k, v in losses.items() if k.startswith('loss_'))
    _close(total, ref['total'], 'total loss')
    _close(losses['loss_ce_moe'] + losses['loss_triplet_moe'],
           ref['moe_pair_total'], 'moe pair')
    assert sorted(k for k in losses if k.startswith('loss_')) == sorted([
        'loss_ce_moe', 'loss_triplet_moe', 'loss_ce_ori', 'loss_triplet_ori',
        'loss_moe'
    ])


@pytest.fixture(scope='module')
def clip_file(tmp_path_factory):
    """OpenAI's ViT-B/16 CLIP file as the official run had it (its text
    tower without the 25M-value token embedding: the loader drops it)."""
    keys = [(k, s) for k, s in _keys('clip_vit_b16_keys.json')
            if k != 'token_embedding.weight' and k not in (
                'input_resolution', 'context_length', 'vocab_size')]
    state_dict = seeded_state_dict(keys)
    state_dict.update(
        input_resolution=torch.tensor(224),
        context_length=torch.tensor(77),
        vocab_size=torch.tensor(49408))
    path = tmp_path_factory.mktemp('clip') / 'ViT-B-16.pt'
    torch.save(state_dict, path)
    return str(path), state_dict


def test_clip_initialisation_equals_the_official_loader(
        clip_file, official, reference):
    """CLIPVisualPretrained gives the tensors the official loader gave
    (position embedding resized 14 x 14 -> 16 x 8, the rest copied), and the
    model initialised so gives the official feature."""
    path, clip = clip_file
    cfg = _model_cfg()
    cfg.backbone.backbone.init_cfg = dict(
        type='CLIPVisualPretrained', checkpoint=path)
    model = MODELS.build(cfg)
    model.init_weights()
    stream = model.backbone.streams[0]
    assert isinstance(stream, ReIDViT)
    ref = reference['clip_loader']
    _close(stream.pos_embed[0], ref['positional_embedding_rows'],
           'resized position embedding')
    _close(stream.patch_embed.projection.weight.flatten(),
           ref['conv1_weight_flat'], 'conv1')
    _close(stream.proj.flatten(), ref['proj_flat'], 'proj')
    _close(stream.ln1.weight, ref['ln_post_weight'], 'ln_post')
    _close(stream.layers[0].attn.qkv.weight.flatten(),
           ref['block0_in_proj_weight_flat'], 'in_proj of block 0')
    loaded = stream.state_dict()
    for key, new in (('visual.class_embedding', 'cls_token'),
                     ('visual.transformer.resblocks.5.mlp.c_proj.bias',
                      'layers.5.ffn.layers.1.bias'),
                     ('visual.ln_pre.weight', 'pre_norm.weight')):
        assert torch.equal(loaded[new].flatten(), clip[key].flatten()), key
    # everything else as the official run: seeded by its DeMo key
    state_dict, _ = converter.convert_official_state_dict(official)
    rest = {
        k: v
        for k, v in state_dict.items() if not k.startswith('backbone.') or
        k.endswith('camera_embed')
    }
    result = model.load_state_dict(rest, strict=False)
    assert not result.unexpected_keys and all(
        k.startswith('backbone.streams.0.') for k in result.missing_keys)
    _without_dropout(model).eval()
    images, samples = inputs()
    with torch.no_grad():
        out = model(images, samples, mode='predict')
    _close(torch.stack([s.pred_feature for s in out]),
           reference['eval_clip_route_return_pattern_3'], 'CLIP route')


def test_converter_tool_end_to_end(tmp_path, official, capsys):
    """DataParallel ``module.`` keys in, a strictly loadable checkpoint with
    its meta out; no key dropped."""
    src, dst = tmp_path / 'official.pth', tmp_path / 'mmieee.pth'
    torch.save({'module.' + k: v for k, v in official.items()}, src)
    converter.main([str(src), str(dst), '--check-config', str(CONFIG)])
    out = capsys.readouterr().out
    assert 'Converted 417 official tensors' in out and 'no key dropped' in out
    assert 'num_classes=171' in out and 'num_cameras=4' in out
    assert 'direct=1' in out and 'atmoe_heads=4' in out
    assert 'OK: loads strictly' in out
    from mmieee.utils import load_from_local
    ckpt = load_from_local(str(dst))
    assert ckpt['meta']['modalities'] == list(MODALITIES)
    assert len(ckpt['state_dict']) == 411  # 7 query tokens -> 1 tensor


def test_unknown_keys_are_named(official):
    sd = dict(official)
    sd['BACKBONE.base.blocks.0.attn.qkv.weight'] = torch.zeros(1)
    with pytest.raises(UnknownKeyError,
                       match='BACKBONE.base.blocks.0.attn.qkv.weight'):
        converter.convert_official_state_dict(sd)
    _, dropped = converter.convert_official_state_dict(
        sd, allow_unknown=True)
    assert dropped == ['BACKBONE.base.blocks.0.attn.qkv.weight']
    sd = dict(official)
    del sd['generalFusion.rt_token']
    with pytest.raises(ValueError, match='query tokens'):
        converter.convert_official_state_dict(sd)


TOOL = 'tools/model_converters/demo_official_to_mmieee.py'


@pytest.mark.parametrize('bad', ['missing file', 'unknown key'])
def test_bad_input_is_one_error_line_as_a_command(tools, tmp_path, bad):
    """Run as users run it: exit status 2, one ``Error:`` line naming the
    file (and the keys), no traceback, no output file."""
    src, dst = tmp_path / 'DeMo_RGBNT201.pth', tmp_path / 'out.pth'
    if bad == 'missing file':
        expected = f"Error: checkpoint '{src}' does not exist"
    else:
        torch.save({'module.BACKBONE.cv_embed': torch.zeros(4, 1, 8),
                    'module.BACKBONE.base.blocks.0.attn.qkv.weight':
                    torch.zeros(1), 'module.extra': torch.zeros(1)}, src)
        expected = (f'Error: 2 key(s) of {src} are not in the official DeMo '
                    'layout with the CLIP backbone: '
                    'BACKBONE.base.blocks.0.attn.qkv.weight, extra. (The '
                    'ImageNet-ViT variant is not supported.)')
    proc = tools.run([TOOL, src, dst], check=False, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(expected), proc.stderr
    assert proc.stderr.count('\n') == 1, proc.stderr
    assert not dst.exists()


def test_incomplete_query_tokens_name_the_file(tmp_path, capsys):
    src, dst = tmp_path / 'DeMo_RGBNT201.pth', tmp_path / 'out.pth'
    torch.save({'generalFusion.r_token': torch.zeros(1, 1, 8)}, src)
    with pytest.raises(SystemExit) as exc:
        converter.main([str(src), str(dst)])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith(
        f'Error: {src}: The HDM query tokens')
    assert not dst.exists()


def test_vehicle_layout_fits_the_vehicle_config():
    """DIRECT=0 heads (classifier_{r,n,t}, bottleneck_{r,n,t}), 8 ATMoE
    heads of 64 channels, 8 cameras, 50 ids: the official RGBNT100 model's
    keys (derived from the RGBNT201 list) load strictly into the model of
    the RGBNT100 config."""
    keys = []
    for key, shape in _keys('demo_rgbnt201_keys.json'):
        if key.startswith(('classifier.', 'bottleneck.')):
            for letter in 'rnt':
                name = key.replace('.', f'_{letter}.', 1)
                keys.append((name, [50, 512] if key.startswith(
                    'classifier') else [512] * len(shape)))
            continue
        if key == 'classifier_moe.weight':
            shape = [50, 3584]
        elif key == 'BACKBONE.cv_embed':
            shape = [8, 1, 768]
        elif '.experts.' in key:
            if not key.split('.experts.')[1].startswith('0.'):
                continue  # rebuilt below for 8 heads
        keys.append((key, shape))
    for h in range(8):
        for e in range(7):
            p = f'generalFusion.moe.experts.{h}.expertHead.{e}.mlp.'
            keys += [(p + '0.weight', [64, 64]), (p + '0.bias', [64])]
            keys += [(p + f'2.{n}', [64]) for n in ('weight', 'bias',
                                                    'running_mean',
                                                    'running_var')]
            keys.append((p + '2.num_batches_tracked', []))
    state_dict, dropped = converter.convert_official_state_dict(
        seeded_state_dict(keys))
    assert not dropped
    assert converter.describe(state_dict) == dict(
        num_classes=50, direct=0, num_cameras=8, atmoe_heads=8,
        patch_grid_tokens=129)
    model = MODELS.build(_model_cfg(VEHICLE_CONFIG))
    model.load_state_dict(state_dict, strict=True)
