# Copyright (c) mmieee contributors.
"""The DeMo configs say what the official configs say
(configs/{RGBNT201,RGBNT100,MSVR310}/DeMo.yml of github.com/924973292/DeMo
over its config/defaults.py), and the optimiser they build has the official
parameter groups (compared with the groups the official make_optimizer
built, tests/data/demo/demo_rgbnt201_reference.json)."""
import copy
import json
from collections import defaultdict
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmieee.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'configs' / 'demo'
RGBNT201 = 'demo_vit-b16-clip_1xb64-50e_rgbnt201.py'
RGBNT100 = 'demo_vit-b16-clip_1xb128-30e_rgbnt100.py'
MSVR310 = 'demo_vit-b16-clip_1xb64-50e_msvr310.py'


def load(name: str) -> Config:
    return Config.fromfile(str(DEMO / name))


def _transforms(pipeline):
    (broadcast, ) = [t for t in pipeline if t.type == 'ApplyToModalities']
    return broadcast, {t.type: t for t in broadcast.transforms}


def _assert_transreid_augmentation(cfg, h, w):
    """The official make_dataloader.py at SIZE_TRAIN = SIZE_TEST = [h, w]:
    Pillow decode, Pillow bicubic resize, flip 0.5, pad 10 + random crop,
    timm's RandomErasing(probability=0.5, mode='pixel', max_count=1) after
    Normalize(0.5, 0.5) (N(0, 1) in the box once normalised), each modality
    on its own; test: Pillow bilinear resize."""
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert pipeline[0] == dict(type='LoadMultiModalImages',
                               imdecode_backend='pillow')
    broadcast, t = _transforms(pipeline)
    assert broadcast.share_random_params is False
    assert list(t) == ['Resize', 'RandomFlip', 'RandomCrop',
                       'TimmRandomErasing']
    assert t['Resize'] == dict(type='Resize', scale=(w, h),
                               interpolation='bicubic', backend='pillow')
    assert t['RandomFlip'] == dict(type='RandomFlip', prob=0.5,
                                   direction='horizontal')
    assert t['RandomCrop'] == dict(type='RandomCrop', crop_size=(h, w),
                                   padding=10, pad_val=0)
    assert t['TimmRandomErasing'] == dict(
        type='TimmRandomErasing', prob=0.5, fill_mean=127.5, fill_std=127.5)
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline[0] == dict(type='LoadMultiModalImages',
                               imdecode_backend='pillow')
    _, t = _transforms(pipeline)
    assert t == dict(Resize=dict(type='Resize', scale=(w, h),
                                 interpolation='bilinear', backend='pillow'))


def test_rgbnt201_recipe():
    cfg = load(RGBNT201)
    m = cfg.model
    assert list(m.data_preprocessor.mean) == [127.5] * 3  # 0.5 x 255
    assert list(m.data_preprocessor.std) == [127.5] * 3
    assert m.backbone.type == 'MultiStreamBackbone'
    assert m.backbone.share_weights is True
    vit = m.backbone.backbone
    assert (vit.type, vit.arch, tuple(vit.img_size), vit.patch_size,
            vit.patch_cfg.stride) == ('ReIDViT', 'b', (256, 128), 16, 16)
    assert vit.pre_norm and vit.norm_cfg.eps == 1e-5 and vit.qkv_bias
    assert vit.layer_cfgs.act_cfg.type == 'mmpretrain.QuickGELU'
    assert (vit.out_channels, vit.num_cameras, vit.camera_tokens,
            vit.camera_embed_coef) == (512, 4, 'cls', 1.0)
    assert vit.drop_rate == vit.drop_path_rate == 0
    assert vit.init_cfg == dict(
        type='CLIPVisualPretrained', checkpoint='~/.cache/clip/ViT-B-16.pt')
    assert m.neck.hdm.dropout == 0.1 and m.neck.atmoe.num_heads == 4
    head = m.head
    assert dict(head.branches) == dict(moe=3584, ori=1536)
    assert tuple(head.test_feature) == ('ori', 'moe')  # return_pattern 3
    assert (head.loss_ce.label_smooth_val, head.loss_ce.mode,
            head.loss_ce.loss_weight) == (0.1, 'original', 0.25)
    assert (head.loss_triplet.margin, head.loss_triplet.loss_weight) == (None,
                                                                         1.0)
    assert head.num_classes == 171
    # data: P x K = 8 x 8, Pillow bicubic / bilinear, flip, pad 10 + crop,
    # erasing 0.5, each modality on its own
    train = cfg.train_dataloader
    assert (train.batch_size, train.sampler.num_instances) == (64, 8)
    _assert_transreid_augmentation(cfg, 256, 128)
    assert cfg.test_dataloader.batch_size == 128
    opt = cfg.optim_wrapper
    assert opt.type == 'OptimWrapper'  # fp16 AMP: tools/train.py --amp fp16
    assert (opt.optimizer.type, opt.optimizer.lr, opt.optimizer.weight_decay,
            tuple(opt.optimizer.betas),
            opt.optimizer.eps) == ('Adam', 3.5e-4, 1e-4, (0.9, 0.999), 1e-8)
    assert cfg.train_cfg.max_epochs == 50 and cfg.train_cfg.val_interval == 1
    for key in ('val_evaluator', 'test_evaluator'):  # TEST.FEAT_NORM
        assert (cfg[key].type, cfg[key].exclude,
                cfg[key].normalize_feature) == ('ReIDMetric', 'camera', True)


@pytest.mark.parametrize('name, batch, k, epochs, classes, exclude', [
    (RGBNT100, 128, 16, 30, 50, 'camera'),
    (MSVR310, 64, 4, 50, 155, 'scene'),
])
def test_vehicle_recipes(name, batch, k, epochs, classes, exclude):
    cfg = load(name)
    vit = cfg.model.backbone.backbone
    assert tuple(vit.img_size) == (128, 256)  # SIZE_TRAIN [128, 256]
    assert vit.num_cameras == 8
    assert cfg.model.neck.atmoe.num_heads == 8  # MODEL.HEAD
    head = cfg.model.head
    assert dict(head.branches) == dict(  # DIRECT=0
        moe=3584, global_0=512, global_1=512, global_2=512)
    assert tuple(head.test_feature) == ('global_0', 'global_1', 'global_2',
                                        'moe')
    assert head.num_classes == classes
    train = cfg.train_dataloader
    assert (train.batch_size, train.sampler.num_instances) == (batch, k)
    _assert_transreid_augmentation(cfg, 128, 256)  # SIZE_TRAIN = SIZE_TEST
    assert cfg.train_cfg.max_epochs == epochs
    for key in ('val_evaluator', 'test_evaluator'):
        assert cfg[key].exclude == exclude and cfg[key].normalize_feature
    assert cfg.optim_wrapper == load(RGBNT201).optim_wrapper


def test_parameter_groups_equal_the_official_optimizer():
    """One group per parameter; the (lr, weight decay) classes hold the
    same numbers of values as the official make_optimizer's: encoder 5e-6
    (its biases too), biases 7e-4, the rest (camera embedding included)
    3.5e-4, weight decay 1e-4 everywhere. The official code leaves the
    frozen BN-neck biases out; mmengine keeps them in a group where they
    never get a gradient."""
    cfg = load(RGBNT201)
    init_default_scope('mmieee')
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.backbone.pop('init_cfg')
    model = MODELS.build(model_cfg)
    optimizer = build_optim_wrapper(model,
                                    copy.deepcopy(cfg.optim_wrapper)).optimizer
    assert isinstance(optimizer, torch.optim.Adam)
    names = {id(p): n for n, p in model.named_parameters()}
    classes = defaultdict(int)
    for group in optimizer.param_groups:
        assert len(group['params']) == 1
        param = group['params'][0]
        if not param.requires_grad:
            assert names[id(param)] in ('head.bnnecks.moe.bias',
                                        'head.bnnecks.ori.bias')
            continue
        classes[(group['lr'], group['weight_decay'])] += param.numel()
        if names[id(param)].endswith('camera_embed'):
            assert group['lr'] == 3.5e-4
    ref = json.loads((REPO / 'tests' / 'data' / 'demo' /
                      'demo_rgbnt201_reference.json').read_text())
    official = defaultdict(int)
    for group in ref['optimizer']['classes'].values():
        official[(group['lr'], group['weight_decay'])] += group['numel']
    assert dict(classes) == dict(official)
    assert dict(official) == {
        (5e-6, 1e-4): 86037504 + 102912,
        (3.5e-4, 1e-4): 12625408,
        (7e-4, 1e-4): 27136
    }
    # the paper's module ablation, full model E: 98.79 M parameters
    assert sum(p.numel() for p in model.parameters()) == 98798080


def test_synthetic_demo_learns(tmp_path):
    """A test-sized run of the demo config (its model, pipeline and
    optimiser; 8 training ids, 6 epochs) ranks the held-out ids far above
    chance. Chance: each query has 2 true matches among the 30 gallery
    items left after the same-id same-camera exclusion (6.7 %)."""
    from mmieee.testing.synthetic import generate_synthetic_dataset
    from mmieee.utils import build_runner, load_tool_config
    root = generate_synthetic_dataset(
        str(tmp_path / 'data'), num_train_ids=8, num_test_ids=8,
        num_cameras=2, images_per_id_per_camera=2, height=64, width=32,
        layout='rgbnt201')['root']
    options = {
        f'{key}.dataset.data_root': root
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    }
    options.update({
        f'{key}.num_workers': 0
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    })
    options.update({
        'train_dataloader.batch_size': 16,  # P x K = 4 x 4
        'train_cfg.max_epochs': 6,
        'train_cfg.val_interval': 6,
        'model.head.num_classes': 8,
        'work_dir': str(tmp_path / 'work'),
    })
    cfg = load_tool_config(
        str(DEMO / 'demo_vit-tiny_1xb32-20e_synthetic-demo.py'), options)
    runner = build_runner(cfg)
    runner.train()
    metrics = runner.test()
    assert metrics['reid/mAP'] > 40, metrics  # chance: 6.7


@pytest.mark.parametrize('name, dataset', [(RGBNT201, 'RGBNT201'),
                                           (RGBNT100, 'RGBNT100'),
                                           (MSVR310, 'MSVR310')])
def test_the_schedule_is_the_official_one(name, dataset):
    """The scheduler arguments of each config are those whose per-epoch
    learning rates tests/test_engine/test_schedulers/test_timm_cosine_lr.py
    proves equal to the official scheduler's (noise included)."""
    ref = json.loads((REPO / 'tests' / 'data' /
                      'official_lr_schedules.json').read_text())
    official = dict(ref['demo'][dataset]['scheduler'])
    official['noise_range'] = tuple(official['noise_range'])
    cfg = load(name)
    sched = dict(cfg.param_scheduler)
    assert sched.pop('type') == 'TimmCosineLR'
    sched['noise_range'] = tuple(sched['noise_range'])
    assert sched == official
    assert cfg.train_cfg.max_epochs == official['t_initial']
