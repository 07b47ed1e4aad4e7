# Copyright (c) mmieee contributors.
"""mmieee's TOP-ReID equals the official code (github.com/924973292/TOP-ReID,
commit 921dd7c866b382b001706b91483fee4940254beb), without shipping it.

How the fixture was made (once, with the official code, outside this
repository): the official ``TOPReID`` model was built from
``configs/RGBNT201/TOP-ReID.yml`` merged on ``config/defaults.py`` with
``MODEL.PRETRAIN_CHOICE='self'`` and dropout / drop path 0 (171 classes,
4 cameras); its 600 state-dict keys got the values of
``mmieee.testing.seeded_state_dict`` (a tensor per key from the key's
CRC-32); it ran in fp32 on CPU on ``images = torch.randn(4, 3, 3, 256, 128,
generator=torch.Generator().manual_seed(0))`` (dim 1 = RGB, NI, TI),
``camids = [0, 1, 2, 3]``, ``labels = [0, 0, 1, 1]``: eval mode for the
test feature (TPM output before the BN neck, 2304-d) and for each
``TEST.MISS`` case (``model.miss`` / ``model.CRM.miss`` set to r, n, t, rn,
rt, nt), train mode (BN necks on batch statistics) for the processor's
loss, with ``MODEL.DIRECT`` 1 and 0. The outputs were stored as
``mmieee.testing.summarize`` fingerprints. Command::

    cd <scratch copy with the official code and its venv> && \\
        venv/bin/python make_fixtures.py

(about 2.5 min on 2 CPUs); ``tests/data/topreid/`` keeps the key list and
the summaries these tests need (tests/data/topreid/README.md).

Here: the same state dict is regenerated from the key list, converted with
``tools/model_converters/topreid_official_to_mmieee.py``, loaded strictly
into the model of ``configs/topreid/topreid_vit-b16_1xb128-120e_rgbnt201.py``
(``init_cfg`` removed, drop path 0; built on the meta device and loaded by
assignment, so no memory or time goes into a random initialisation), and
run once on the same batch through ``model(..., mode='predict')``; the
streams' token maps of that run (train and eval mode compute the same
tokens without dropout) feed the neck for the six missing-modality cases
and the training losses. Every comparison: ``relative_difference`` < 1e-4.
"""
import copy
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401
from mmieee.registry import MODELS
from mmieee.testing.seeded_weights import (relative_difference,
                                           seeded_state_dict, summarize)

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / 'tests' / 'data' / 'topreid'
CONFIG = REPO / 'configs' / 'topreid' / \
    'topreid_vit-b16_1xb128-120e_rgbnt201.py'
VEHICLE_CONFIG = REPO / 'configs' / 'topreid' / \
    'topreid_vit-b16_1xb128-120e_rgbnt100.py'
TOOL = REPO / 'tools' / 'model_converters' / 'topreid_official_to_mmieee.py'
MODALITIES = ('RGB', 'NI', 'TI')
TOLERANCE = 1e-4
#: The official TEST.MISS letters -> mmieee missing modalities.
MISS = {
    'r': ['RGB'], 'n': ['NI'], 't': ['TI'],
    'rn': ['RGB', 'NI'], 'rt': ['RGB', 'TI'], 'nt': ['NI', 'TI'],
}


def _converter():
    spec = importlib.util.spec_from_file_location('topreid_conv', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_on_meta(cfg: Config):
    """The config's model on the meta device (the data preprocessor, whose
    constructor checks its values, on the CPU)."""
    init_default_scope('mmieee')
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    model_cfg['data_preprocessor'] = MODELS.build(
        model_cfg['data_preprocessor'])
    with torch.device('meta'):
        return MODELS.build(model_cfg)


def _batch():
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(4, 3, 3, 256, 128, generator=gen)
    samples = [
        DataSample(metainfo=dict(camid=c, modalities=MODALITIES))
        .set_gt_label(y) for c, y in zip((0, 1, 2, 3), (0, 0, 1, 1))
    ]
    return images, samples


@pytest.fixture(scope='module')
def ref():
    return json.loads((DATA / 'topreid_rgbnt201_reference.json').read_text())


@pytest.fixture(scope='module')
def official():
    """The seeded official state dict (324.5 M values)."""
    keys = json.loads((DATA / 'topreid_rgbnt201_keys.json').read_text())
    return seeded_state_dict(keys)


@pytest.fixture(scope='module')
def run(official):
    """One predict-mode run of the converted model; the streams' tokens."""
    converted, dropped = _converter().convert_official_state_dict(official)
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.backbone.drop_path_rate = 0.0
    model = build_on_meta(cfg)
    model.load_state_dict(converted, strict=True, assign=True)
    assert not any(t.is_meta for t in model.state_dict().values())
    model.eval()
    images, samples = _batch()
    tokens = {}
    hook = model.backbone.register_forward_hook(
        lambda module, args, out: tokens.setdefault('maps', out))
    with torch.no_grad():
        predicted = model(images, copy.deepcopy(samples), mode='predict')
    hook.remove()
    return dict(model=model, dropped=dropped, predicted=predicted,
                tokens=list(tokens['maps']), converted=converted)


def test_converter_drops_exactly_the_unused_official_keys(run, ref):
    dropped = [k for k, _ in run['dropped']]
    assert dropped == ref['keys']['dropped']
    assert len(dropped) == 24
    assert len(run['converted']) == ref['keys']['count'] - 24


def test_test_feature_equals_the_official_one(run, ref):
    """The official eval output (TPM before bottleneck_TPM), through
    predict mode: a 1-D pred_feature per sample."""
    feats = torch.stack([s.pred_feature for s in run['predicted']])
    assert feats.shape == (4, 2304)
    diff = relative_difference(summarize(feats), ref['eval']['test_feature'])
    assert diff < TOLERANCE, diff
    cls = torch.cat([t[:, 0] for t in run['tokens']], dim=1)
    diff = relative_difference(summarize(cls),
                               ref['eval']['stream_cls_concat'])
    assert diff < TOLERANCE, diff


@pytest.mark.parametrize('letters', sorted(MISS))
def test_missing_modality_feature_equals_the_official_one(run, ref, letters):
    model = run['model']
    missing = [MODALITIES.index(m) for m in MISS[letters]]
    with torch.no_grad():
        feats = model.neck(run['tokens'], missing=missing)['tpm']
    diff = relative_difference(summarize(feats),
                               ref['missing'][letters]['test_feature'])
    assert diff < TOLERANCE, (letters, diff)


def test_missing_modality_option_goes_through_predict_mode(run, ref):
    """test_cfg.missing_modalities reaches the neck; the feature no longer
    depends on the missing images (the official loader feeds them, CRM
    replaces their tokens)."""
    model = run['model']
    images, samples = _batch()
    images[:, 1:] = 0  # NI and TI missing: their images do not matter
    model.set_missing_modalities(['NI', 'TI'])
    try:
        with torch.no_grad():
            feats = model(images, samples, mode='tensor')
    finally:
        model.set_missing_modalities(())
    diff = relative_difference(summarize(feats),
                               ref['missing']['nt']['test_feature'])
    assert diff < TOLERANCE, diff


def test_training_loss_equals_the_official_processor_total(run, ref):
    """MODEL.DIRECT 1: CE + triplet on (TPM, TPM feature) and (ViT, class
    tokens), + CRM; each term and the sum."""
    model = run['model']
    _, samples = _batch()
    model.train()
    try:
        with torch.no_grad():
            losses = model.head.loss(model.neck(run['tokens']), samples)
    finally:
        model.eval()
    terms = ref['train']['terms']
    want = {
        'loss_ce_tpm': terms['tpm_id'], 'loss_triplet_tpm':
        terms['tpm_triplet'], 'loss_ce_cls': terms['vit_id'],
        'loss_triplet_cls': terms['vit_triplet'], 'loss_crm':
        ref['train']['crm']
    }
    assert sorted(k for k in losses if k.startswith('loss')) == sorted(want)
    for key, value in want.items():
        diff = relative_difference(summarize(losses[key]), value)
        assert diff < TOLERANCE, (key, diff)
    total = sum(losses[k] for k in want)
    diff = relative_difference(summarize(total), ref['train']['total'])
    assert diff < TOLERANCE, diff


def test_direct0_loss_of_the_vehicle_head_equals_the_official_total(
        run, ref, official):
    """MODEL.DIRECT 0 (the RGBNT100 / MSVR310 head): the same batch and
    weights, each stream's own BN neck + classifier converted with
    --direct 0."""
    converted, dropped = _converter().convert_official_state_dict(
        official, direct=0)
    assert len(dropped) == 12
    cfg = Config.fromfile(str(VEHICLE_CONFIG))
    head_cfg = copy.deepcopy(cfg.model.head.to_dict())
    head_cfg['num_classes'] = 171
    head = MODELS.build(head_cfg)
    head.load_state_dict({
        k[len('head.'):]: v
        for k, v in converted.items() if k.startswith('head.')
    }, strict=True)
    head.train()
    _, samples = _batch()
    model = run['model']
    model.train()
    try:
        with torch.no_grad():
            losses = head.loss(model.neck(run['tokens']), samples)
    finally:
        model.eval()
    pairs = ref['train_direct0']['pairs']
    for name, key in (('tpm', 'tpm'), ('cls_0', 'rgb'), ('cls_1', 'ni'),
                      ('cls_2', 'ti')):
        pair = losses[f'loss_ce_{name}'] + losses[f'loss_triplet_{name}']
        diff = relative_difference(summarize(pair), pairs[key])
        assert diff < TOLERANCE, (name, diff)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    diff = relative_difference(summarize(total),
                               ref['train_direct0']['total'])
    assert diff < TOLERANCE, diff


def test_optimizer_groups_follow_the_official_bias_rule(run, ref):
    """The config's paramwise rule on the converted model: every trainable
    parameter named *bias* at 2 x lr, the rest at lr, wd 1e-4 for all; the
    counts are the official ones less the 12 trainable parameters the
    converter drops (3 fc weights, 3 fc biases, 3 stream classifiers, 3
    stream BN weights)."""
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(str(CONFIG))
    cfg.optim_wrapper.optimizer.fused = False  # meta device: no kernels
    wrapper = build_optim_wrapper(run['model'], cfg.optim_wrapper)
    names = {id(p): n for n, p in run['model'].named_parameters()}
    kinds = {0.009: [], 0.018: []}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            if not p.requires_grad:
                continue
            assert group['weight_decay'] == pytest.approx(1e-4)
            kinds[round(group['lr'], 6)].append(names[id(p)])
    official = {k['lr']: k['count'] for k in ref['optim']['group_kinds']}
    assert all('bias' in n for n in kinds[0.018])
    assert not any('bias' in n for n in kinds[0.009])
    assert len(kinds[0.018]) == official[0.018] - 3
    assert len(kinds[0.009]) == official[0.009] - 9
    frozen = [n for n, p in run['model'].named_parameters()
              if not p.requires_grad]
    assert frozen == ['head.bnnecks.tpm.bias', 'head.bnnecks.cls.bias']
