# Copyright (c) mmieee contributors.
"""The study configs (configs/fusion/, configs/losses/, the Table 2 demos):
each builds and trains one step on a tiny input, changes only what it says,
and its demo variant changes the same thing as its ResNet-50 config."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmieee.registry import MODELS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs'
OFFICIAL = 'ieee/ieee_r50_1xb8-61e_rgbnt201.py'
DEMO = 'ieee/ieee_r18_1xb16-8e_synthetic-demo.py'
FUSIONS = {
    'early-sum': 'EarlySumFusion',
    'late-sum': 'LateSumFusion',
    'late-concat': 'LateConcatFusion',
    'progressive': 'ProgressiveFusion'
}
LOSSES = {'ce': [], 'ce-center': ['CenterLoss'], 'ce-hc': ['HeteroCenterLoss']}
STUDY_CONFIGS = sorted(
    str(p.relative_to(CONFIG_DIR))
    for d in ('fusion', 'losses') for p in (CONFIG_DIR / d).glob('*.py')) + [
        'ieee/ieee_r18_1xb16-8e_synthetic-demo-rgb-ti.py',
        'ieee/ieee_r18_1xb16-8e_synthetic-demo-rgb-ni.py'
    ]


def load(name: str) -> Config:
    return Config.fromfile(str(CONFIG_DIR / name))


def pair(study: str, variant: str):
    """(ResNet-50 config, demo config) of a study variant."""
    return (load(f'{study}/ieee-{variant}_r50_1xb8-61e_rgbnt201.py'),
            load(f'{study}/ieee-{variant}_r18_1xb16-8e_synthetic-demo.py'))


def test_every_scheme_and_loss_has_both_configs():
    names = {Path(c).name for c in STUDY_CONFIGS}
    for study, variants in (('fusion', FUSIONS), ('losses', LOSSES)):
        for v in variants:
            assert f'ieee-{v}_r50_1xb8-61e_rgbnt201.py' in names
            assert f'ieee-{v}_r18_1xb16-8e_synthetic-demo.py' in names
    assert len(STUDY_CONFIGS) == 2 * (len(FUSIONS) + len(LOSSES)) + 2


def shrink(cfg: Config) -> Config:
    """A ResNet-50 config at 1/8 width (256-channel last stage, 32 -> 16-d
    parts), so that one step costs a fraction of a second; the structure
    (fusion module, losses, optimizer settings) is the config's."""
    model = cfg.model
    model.backbone.backbone.update(base_channels=8, stem_channels=8)
    model.neck.update(in_channels=256, reduce_channels=32, out_channels=16)
    model.head.in_channels = 16
    for loss in model.head.metric_losses:
        if 'feat_dim' in loss:
            loss.feat_dim = 16 * loss.feat_dim // 128
    return cfg


@pytest.mark.parametrize('name', STUDY_CONFIGS)
def test_config_trains_one_step_on_a_tiny_input(name):
    """Model and optimizer (with its paramwise settings) from the config
    (ResNet-50 ones shrunk, see :func:`shrink`); one SGD step on a 2 x 2
    identity batch of 96 x 32 images (6-row maps for up to 6 parts) moves
    the weights and gives every loss of the config, finite."""
    cfg = load(name)
    if '_r50_' in name:
        cfg = shrink(cfg)
    init_default_scope('mmieee')
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))  # no init_weights: no
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    num = len(cfg.model.modalities)
    inputs = torch.randint(0, 256, (4, num, 3, 96, 32), dtype=torch.uint8)
    samples = [DataSample().set_gt_label(y) for y in (0, 0, 1, 1)]
    head_before = model.head.classifiers[0][0].weight.detach().clone()
    log = model.train_step(dict(inputs=inputs, data_samples=samples), optim)
    losses = {k for k in log if k.startswith('loss_')}
    expected = {'loss_ce'} | {
        MODELS.build(copy.deepcopy(c)).loss_name
        for c in cfg.model.head.metric_losses
    }
    assert losses == expected
    assert all(torch.isfinite(torch.as_tensor(log[k])) for k in losses)
    assert not torch.equal(head_before, model.head.classifiers[0][0].weight)


@pytest.mark.parametrize('variant', sorted(FUSIONS))
def test_fusion_configs_replace_cim_and_turn_3m_off(variant):
    bases = (load(OFFICIAL).model, load(DEMO).model)
    for cfg, base in zip(pair('fusion', variant), bases):
        m = cfg.model
        assert m.head.metric_losses == []  # one fused branch: no 3M
        if variant == 'early-sum':
            assert m.backbone.type == 'EarlySumFusion'
            assert m.neck.cim is None
            # the same stream and initialisation as the IEEE model
            assert m.backbone.backbone == base.backbone.backbone
            assert m.backbone.get('init_cfg') == base.backbone.get('init_cfg')
        else:
            assert m.backbone == base.backbone
            assert m.neck.cim == dict(type=FUSIONS[variant])
            assert m.neck.global_source == 'cim'
        # everything else is the recipe of the base config
        for key in ('reduce_channels', 'out_channels', 'num_parts', 'rem'):
            assert m.neck[key] == base.neck[key]
        assert m.head.loss_ce == base.head.loss_ce


@pytest.mark.parametrize('variant', sorted(LOSSES))
def test_loss_configs_change_only_the_metric_loss(variant):
    r50, demo = pair('losses', variant)
    for cfg, base in ((r50, load(OFFICIAL)), (demo, load(DEMO))):
        types = [c.type for c in cfg.model.head.metric_losses]
        assert types == LOSSES[variant]
        assert cfg.model.neck == base.model.neck
        assert cfg.model.backbone == base.model.backbone
        assert cfg.model.head.loss_ce == base.model.head.loss_ce
    # the demo uses the ResNet-50 config's loss settings (feature size and
    # number of ids follow the model)
    for a, b in zip(r50.model.head.metric_losses,
                    demo.model.head.metric_losses):
        drop = ('feat_dim', 'num_classes')
        assert {k: v for k, v in a.items() if k not in drop} == \
            {k: v for k, v in b.items() if k not in drop}


@pytest.mark.parametrize('cfg', pair('losses', 'ce-center'),
                         ids=['r50', 'demo'])
def test_center_loss_centres_follow_wen_et_al(cfg):
    """alpha = lr * lr_mult * loss_weight = 0.5 with the config's own lr; no
    momentum, no weight decay on the centres; feat_dim and num_classes are
    the model's."""
    (loss, ) = cfg.model.head.metric_losses
    head, neck = cfg.model.head, cfg.model.neck
    assert loss.feat_dim == len(cfg.model.modalities) * neck.num_parts * \
        neck.out_channels
    assert loss.num_classes == head.num_classes
    assert loss.loss_weight == 5e-4
    init_default_scope('mmieee')
    model = MODELS.build(copy.deepcopy(cfg.model))
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    (group, ) = [
        g for g in optim.optimizer.param_groups
        if any(p is model.head.metric_losses[0].centers for p in g['params'])
    ]
    assert group['lr'] * loss.loss_weight == pytest.approx(0.5)
    assert (group['momentum'], group['weight_decay']) == (0.0, 0.0)


def test_hc_config_follows_the_hc_authors_on_3m_centres():
    for cfg in pair('losses', 'ce-hc'):
        (loss, ) = cfg.model.head.metric_losses
        assert (loss.margin, loss.distance, loss.reduction,
                loss.loss_weight) == (0.0, 'squared_l2', 'sum', 0.5)
        # our choice: the centres of 3M (normalised features)
        assert loss.normalize is True
        assert load(OFFICIAL).model.head.metric_losses[0].normalize is True


@pytest.mark.parametrize('mods', ['rgb-ti', 'rgb-ni'])
def test_two_modality_demos_match_their_r50_configs(mods):
    demo = load(f'ieee/ieee_r18_1xb16-8e_synthetic-demo-{mods}.py')
    r50 = load(f'ieee/ieee_r50_1xb8-61e_rgbnt201-{mods}.py')
    assert demo.model.modalities == r50.model.modalities
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert demo[key].dataset.modalities == r50.model.modalities
        assert demo[key].dataset.data_root == load(DEMO)[key].dataset.data_root


@pytest.mark.parametrize('study', ['fusion', 'losses'])
def test_metafile_lists_every_study_config_once(study):
    """configs/{fusion,losses}/metafile.yml name every config of their
    folder once, with its modalities and no paper number (the paper prints
    none for these settings)."""
    import yaml
    meta = yaml.safe_load((CONFIG_DIR / study / 'metafile.yml').read_text())
    names = [m['Name'] for m in meta['Models']]
    assert sorted(names) == sorted(
        p.stem for p in (CONFIG_DIR / study).glob('*.py'))
    for entry in meta['Models']:
        assert entry['Config'] == f'configs/{study}/{entry["Name"]}.py'
        cfg = load(f'{study}/{entry["Name"]}.py')
        assert tuple(entry['Metadata']['Modalities']) == tuple(
            cfg.model.modalities)
        assert 'Paper Results' not in entry
