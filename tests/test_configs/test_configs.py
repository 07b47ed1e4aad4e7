# Copyright (c) mmieee contributors.
"""Every shipped config (tracked by git under configs/) is checked with
tools/misc/check_config.py on generated trees in its dataset's layout: it
loads, builds its model, datasets, sampler and metric; the official recipe
and its variants say what the paper's tables and the official code say.

Configs you add yourself are not collected until you commit them; check one
with ``python tools/misc/check_config.py configs/my_config.py --forward``.
"""
import copy
import importlib.util
import subprocess
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmieee.registry import DATASETS, MODELS
from mmieee.testing.synthetic import generate_synthetic_dataset
from mmieee.utils import load_tool_config

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / 'configs'


def shipped_configs() -> list:
    """Config files git tracks under configs/ (all of them outside a git
    checkout), without the _base_ building blocks."""
    try:
        listed = subprocess.run(
            ['git', 'ls-files', 'configs'], cwd=REPO, capture_output=True,
            text=True, check=True).stdout.split()
        paths = [REPO / p for p in listed if p.endswith('.py')]
    except (OSError, subprocess.CalledProcessError):
        paths = list(CONFIG_DIR.rglob('*.py'))
    return sorted(
        str(p.relative_to(CONFIG_DIR)) for p in paths
        if '_base_' not in p.parts)


CONFIGS = shipped_configs()
LAYOUT_OF = {
    'RGBNT201': 'rgbnt201',
    'Market1501MM': 'market1501mm',
    'RGBNT100': 'rgbnt100',
    'MSVR310': 'msvr310',
    'WMVEID863': 'wmveid863'
}
TILE_WIDTH = 16  # width of one modality in the generated RGBNT100 files


def load(name: str) -> Config:
    return Config.fromfile(str(CONFIG_DIR / name))


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    """A tiny generated tree per layout: layout -> data_root (8 training
    ids: the P of TOP-ReID's P x K = 8 x 16 batches)."""
    base = tmp_path_factory.mktemp('layouts')
    roots = {}
    for layout in LAYOUT_OF.values():
        info = generate_synthetic_dataset(
            str(base), num_train_ids=16, num_test_ids=2, num_cameras=2,
            images_per_id_per_camera=1, height=32, width=TILE_WIDTH,
            layout=layout)
        roots[layout] = info['root']
    return roots


def test_every_config_is_found():
    assert 'ieee_rgbnt201.py' in CONFIGS
    assert len([c for c in CONFIGS if c.startswith('ieee/')]) >= 12


def _check_tool():
    spec = importlib.util.spec_from_file_location(
        'mmieee_check_config', REPO / 'tools' / 'misc' / 'check_config.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_model_datasets_sampler_metric(name, trees):
    raw = load(name)
    assert raw.default_scope == 'mmieee'
    options = {}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        layout = LAYOUT_OF[raw[key].dataset.type]
        options[f'{key}.dataset.data_root'] = trees[layout]
        if layout == 'rgbnt100':
            options[f'{key}.dataset.tile_width'] = TILE_WIDTH
    cfg = load_tool_config(str(CONFIG_DIR / name), options)
    out = _check_tool().check(cfg)
    model = out['model']
    modalities = tuple(cfg.model.modalities)
    assert model.modalities == modalities
    assert model.head.num_classes == cfg.model.head.num_classes
    for key, dataset in out['datasets'].items():
        loader = cfg[key]
        assert loader.collate_fn.type == 'default_collate'
        assert tuple(dataset.metainfo['modalities']) == modalities
        inputs = out['samples'][key]['inputs']
        # uint8 pixels; float32 pixels after TimmRandomErasing (its fill lies
        # outside 0..255, to be N(0, 1) after normalisation)
        erases = 'TimmRandomErasing' in str(loader.dataset.pipeline)
        assert inputs.dtype == (torch.float32 if erases else torch.uint8)
        assert inputs.shape[:2] == (len(modalities), 3)
        resize = [
            t for t in loader.dataset.pipeline
            if t.type == 'ApplyToModalities'
        ][0].transforms[0]
        w, h = resize.scale
        assert tuple(inputs.shape[2:]) == (h, w)
        if key == 'train_dataloader':
            assert dataset.split == 'train'
            assert loader.sampler.type == 'IdentityBalancedSampler'
            assert loader.sampler.batch_size == loader.batch_size
            assert out['batches_per_epoch'] >= 1
        else:
            assert dataset.split == 'test'
            assert all(dataset.get_data_info(i)['is_gallery'] or
                       dataset.get_data_info(i)['is_query']
                       for i in range(len(dataset)))
    expected = 'scene' if cfg.val_dataloader.dataset.type == 'MSVR310' \
        else 'camera'
    for metric in out['metrics'].values():
        assert metric.protocol.exclude == expected


def test_check_config_tool_reports_each_part(trees, capsys):
    root = trees['rgbnt201']
    _check_tool().main([
        str(CONFIG_DIR / 'ieee' / 'ieee_r18_1xb16-8e_synthetic-demo.py'),
        '--forward', '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'
    ])
    out = capsys.readouterr().out
    assert "modalities ['RGB', 'NI', 'TI']" in out
    assert 'train_dataloader: RGBNT201 train split, 32 samples, 16 ids' in out
    assert 'forward: 768-d test feature' in out  # 3 x 4 parts x 64
    assert out.strip().endswith('synthetic-demo.py')


def test_demo_config_runs_forward_and_loss(trees):
    """The demo model is small enough to run here: loss and feature size."""
    from mmengine.dataset import default_collate
    cfg = load('ieee/ieee_r18_1xb16-8e_synthetic-demo.py')
    init_default_scope('mmieee')
    model = MODELS.build(copy.deepcopy(cfg.model))
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.data_root = trees['rgbnt201']
    dataset = DATASETS.build(ds_cfg)
    batch = default_collate([dataset[i] for i in range(4)])
    data = model.data_preprocessor(batch, training=True)
    losses = model(**data, mode='loss')
    assert set(losses) >= {'loss_ce', 'loss_3m', 'acc_top1'}
    model.eval()
    with torch.no_grad():
        feats = model(**model.data_preprocessor(batch), mode='tensor')
    neck = cfg.model.neck
    assert feats.shape == (4, 3 * neck.num_parts * neck.out_channels)


def test_entry_config_is_the_official_recipe():
    assert load('ieee_rgbnt201.py').to_dict() == load(
        'ieee/ieee_r50_1xb8-61e_rgbnt201.py').to_dict()
    assert load('ieee/ieee-ablation-d_r50_1xb8-61e_rgbnt201.py').model == load(
        'ieee/ieee_r50_1xb8-61e_rgbnt201.py').model


def test_official_recipe_values():
    """The official recipe (docs/paper_to_code.md)."""
    cfg = load('ieee/ieee_r50_1xb8-61e_rgbnt201.py')
    m = cfg.model
    assert m.modalities == ('RGB', 'NI', 'TI')
    bb = m.backbone
    assert (bb.backbone.depth, tuple(bb.backbone.strides)) == (50,
                                                               (1, 2, 2, 1))
    assert bb.share_weights is False
    assert bb.init_cfg == dict(
        type='Pretrained', checkpoint='torchvision://resnet50')
    assert list(m.data_preprocessor.mean) == [123.675, 116.28, 103.53]
    assert list(m.data_preprocessor.std) == [58.395, 57.12, 57.375]
    neck = m.neck
    assert (neck.reduce_channels, neck.out_channels, neck.num_parts) == (768,
                                                                         128,
                                                                         6)
    assert neck.cim.use_channel_attention
    assert neck.rem.variant == 'official' and neck.global_source == 'backbone'
    head = m.head
    assert head.num_classes == 171 and head.ce_reduction == 'sum'
    assert head.loss_ce.label_smooth_val == 0.1
    (mmm, ) = head.metric_losses
    assert (mmm.type, mmm.distance, mmm.margin, mmm.reduction,
            mmm.loss_weight) == ('MultiModalMarginLoss', 'squared_l2', 1.0,
                                 'sum', 1.0)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.nesterov,
            opt.weight_decay) == ('SGD', 1e-3, 0.9, True, 5e-4)
    assert cfg.param_scheduler.milestones == [20, 40]
    assert cfg.param_scheduler.gamma == 0.1
    assert cfg.train_cfg.max_epochs == 61
    loader = cfg.train_dataloader
    assert (loader.batch_size, loader.sampler.num_instances) == (8, 4)
    aug = [t for t in loader.dataset.pipeline
           if t.type == 'ApplyToModalities'][0]
    assert aug.share_random_params is False  # flips drawn per modality
    assert [t.type for t in aug.transforms] == ['Resize', 'RandomFlip']
    assert tuple(aug.transforms[0].scale) == (128, 256)  # (w, h)
    assert cfg.default_hooks.checkpoint.save_best == 'reid/mAP'


def test_variants_change_only_what_they_say():
    base = load('ieee/ieee_r50_1xb8-61e_rgbnt201.py')
    paper = load('ieee/ieee-paper_r50_1xb8-61e_rgbnt201.py')
    assert paper.model.neck.rem.variant == 'paper'
    assert paper.model.neck.global_source == 'cim'
    assert paper.model.head.metric_losses[0].distance == 'l2'
    assert paper.optim_wrapper == base.optim_wrapper

    a, b, c = (load(f'ieee/ieee-ablation-{x}_r50_1xb8-61e_rgbnt201.py').model
               for x in 'abc')
    # Table 3: a = CE only; b = + CIM; c = + CIM + 3M; d = full
    assert (a.neck.cim, a.neck.rem, a.head.metric_losses) == (None, None, [])
    assert b.neck.cim is not None and b.neck.rem is None
    assert b.head.metric_losses == []
    assert c.neck.cim is not None and c.neck.rem is None
    assert c.head.metric_losses == base.model.head.metric_losses

    for name, mods in (('rgb-ti', ('RGB', 'TI')), ('rgb-ni', ('RGB', 'NI'))):
        cfg = load(f'ieee/ieee_r50_1xb8-61e_rgbnt201-{name}.py')
        assert cfg.model.modalities == mods
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            assert cfg[key].dataset.modalities == mods


def test_metafile_lists_every_model_config_once():
    """configs/ieee/metafile.yml (mmpretrain's model index format) names
    every config of configs/ieee/ once, by its file name, with the modalities
    the config's model has."""
    import yaml
    meta = yaml.safe_load((CONFIG_DIR / 'ieee' / 'metafile.yml').read_text())
    models = meta['Models']
    names = [m['Name'] for m in models]
    files = sorted(c for c in CONFIGS if c.startswith('ieee/'))
    assert sorted(f'ieee/{n}.py' for n in names) == files
    for entry in models:
        assert entry['Config'] == f'configs/ieee/{entry["Name"]}.py'
        cfg = load(f'ieee/{entry["Name"]}.py')
        assert tuple(entry['Metadata']['Modalities']) == tuple(
            cfg.model.modalities)


#: Transforms that leave the image size alone, and the one that fixes it.
SIZE_KEEPING = {'LoadMultiModalImages', 'ApplyToModalities', 'RandomFlip',
                'PackMultiModalReIDInputs'}


def _transform_types(pipeline):
    for t in pipeline:
        yield t
        yield from _transform_types(t.get('transforms', []))


@pytest.mark.parametrize(
    'name', [c for c in CONFIGS if '_r50_' in c or c == 'ieee_rgbnt201.py'])
def test_gpu_configs_with_a_fixed_input_size_use_cudnn_benchmark(name):
    """cudnn_benchmark pays off only when every batch has one shape: the
    ResNet-50 (GPU) configs resize every image to one (w, h) and use no
    size-changing augmentation, so they enable it."""
    cfg = load(name)
    assert cfg.env_cfg.cudnn_benchmark is True
    sizes = set()
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for t in _transform_types(cfg[key].dataset.pipeline):
            if t.type == 'Resize':
                assert not t.get('keep_ratio', False)
                sizes.add(tuple(t.scale))
            else:
                assert t.type in SIZE_KEEPING, (key, t.type)
    assert len(sizes) == 1  # persons 128 x 256 (w x h), vehicles 256 x 128
