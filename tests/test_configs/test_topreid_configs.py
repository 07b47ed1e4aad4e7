# Copyright (c) mmieee contributors.
"""The TOP-ReID configs say what the official code does
(configs/{RGBNT201,RGBNT100,MSVR310}/TOP-ReID.yml on config/defaults.py of
github.com/924973292/TOP-ReID; docs/topreid.md), and build without any
pretrained file once ``init_cfg`` is removed."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import mmieee  # noqa: F401
from mmieee.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
TOPREID = REPO / 'configs' / 'topreid'
#: config -> (dataset, ids, cameras, per-modality heads (DIRECT 0), lr,
#: epochs, excluded group)
OFFICIAL = {
    'topreid_vit-b16_1xb128-120e_rgbnt201.py':
    ('RGBNT201', 171, 4, False, 0.009, 120, 'camera'),
    'topreid_vit-b16_1xb128-120e_rgbnt100.py':
    ('RGBNT100', 50, 8, True, 0.009, 120, 'camera'),
    'topreid_vit-b16_1xb128-1000e_msvr310.py':
    ('MSVR310', 155, 8, True, 0.001, 1000, 'scene'),
}


def load(name: str) -> Config:
    return Config.fromfile(str(TOPREID / name))


@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_official_recipe(name):
    dataset, ids, cams, direct0, lr, epochs, exclude = OFFICIAL[name]
    cfg = load(name)
    m = cfg.model
    assert m.modalities == ('RGB', 'NI', 'TI')
    assert list(m.data_preprocessor.mean) == [127.5] * 3
    assert list(m.data_preprocessor.std) == [127.5] * 3
    bb = m.backbone
    assert bb.share_weights is False
    vit = bb.backbone
    assert (vit.type, vit.arch, tuple(vit.img_size), vit.patch_size) == (
        'ReIDViT', 'b', (256, 128), 16)
    assert vit.qkv_bias and vit.norm_cfg == dict(type='LN', eps=1e-6)
    assert (vit.drop_rate, vit.drop_path_rate) == (0.0, 0.1)
    assert (vit.num_cameras, vit.camera_embed_coef, vit.camera_tokens) == (
        cams, 3.0, 'all')
    assert bb.init_cfg == dict(type='TimmViTPretrained',
                               checkpoint='pretrained/vitb_16_224_21k.pth')
    assert m.neck.type == 'TOPReIDNeck' and m.neck.crm.num_layers == 1
    head = m.head
    assert head.num_classes == ids and head.test_feature == ('tpm', )
    assert head.neck_feat == 'before'
    want = dict(tpm=2304, cls_0=768, cls_1=768, cls_2=768) if direct0 \
        else dict(tpm=2304, cls=2304)
    assert dict(head.branches) == want
    assert (head.loss_ce.label_smooth_val, head.loss_ce.mode,
            head.loss_ce.loss_weight) == (0.1, 'original', 1.0)
    assert (head.loss_triplet.margin, head.loss_triplet.loss_weight) == (
        None, 1.0)
    # optimisation
    opt = cfg.optim_wrapper
    assert (opt.optimizer.type, opt.optimizer.lr, opt.optimizer.momentum,
            opt.optimizer.weight_decay) == ('SGD', lr, 0.9, 1e-4)
    assert opt.paramwise_cfg.custom_keys == {'bias': dict(lr_mult=2.0)}
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.train_cfg.val_interval == 1
    # data
    loader = cfg.train_dataloader
    assert loader.dataset.type == dataset
    assert loader.batch_size == 128 and loader.sampler.num_instances == 16
    # the TransReID augmentation (make_dataloader.py): PIL decode, PIL
    # bicubic resize, flip 0.5, pad 10 + crop, timm's pixel-mode erasing 0.5
    # (N(0, 1) after Normalize(0.5, 0.5)); test: PIL bilinear resize
    assert loader.dataset.pipeline[0] == dict(type='LoadMultiModalImages',
                                              imdecode_backend='pillow')
    (per_modality, ) = [t for t in loader.dataset.pipeline
                        if t.type == 'ApplyToModalities']
    assert per_modality.share_random_params is False
    resize, flip, crop, erase = per_modality.transforms
    assert (resize.type, resize.scale, resize.interpolation,
            resize.backend) == ('Resize', (128, 256), 'bicubic', 'pillow')
    assert (flip.type, flip.prob, flip.direction) == ('RandomFlip', 0.5,
                                                      'horizontal')
    assert (crop.type, crop.crop_size, crop.padding, crop.pad_val) == (
        'RandomCrop', (256, 128), 10, 0)
    assert erase == dict(type='TimmRandomErasing', prob=0.5, fill_mean=127.5,
                         fill_std=127.5)
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    assert test_pipeline[0] == dict(type='LoadMultiModalImages',
                                    imdecode_backend='pillow')
    (test_resize, ) = [t for t in test_pipeline
                       if t.type == 'ApplyToModalities'][0].transforms
    assert test_resize == dict(type='Resize', scale=(128, 256),
                               interpolation='bilinear', backend='pillow')
    evaluator = cfg.test_evaluator
    assert evaluator.normalize_feature is True
    assert evaluator.exclude == exclude


def test_the_schedule_is_the_official_one():
    """TimmCosineLR with the official values (its equality with the
    official per-epoch learning rates is tested in
    tests/test_engine/test_schedulers/test_timm_cosine_lr.py)."""
    sched = load('topreid_vit-b16_1xb128-120e_rgbnt201.py').param_scheduler
    assert sched == dict(type='TimmCosineLR', t_initial=120, warmup_t=10,
                         warmup_lr_init=0.01 * 0.009,
                         lr_min=0.001 * 0.009)
    msvr = load('topreid_vit-b16_1xb128-1000e_msvr310.py')
    assert msvr.param_scheduler.t_initial == msvr.train_cfg.max_epochs \
        == 1000
    assert msvr.param_scheduler.warmup_t == 100
    assert msvr.param_scheduler.lr_min == 0.001 * 0.001


def test_builds_without_a_pretrained_file_when_init_cfg_is_removed():
    """The full RGBNT201 model (on the meta device: no memory for 322 M
    parameters): 4-row camera tables, 2304-d heads, nothing loaded."""
    cfg = load('topreid_vit-b16_1xb128-120e_rgbnt201.py')
    cfg.model.backbone.init_cfg = None
    model_cfg = cfg.model.to_dict()
    model_cfg['data_preprocessor'] = MODELS.build(
        model_cfg['data_preprocessor'])
    with torch.device('meta'):
        model = MODELS.build(model_cfg)
    assert model.backbone_needs_camids
    assert all(s.camera_embed.shape == (4, 1, 768)
               for s in model.backbone.streams)
    assert model.neck.reconstructs_missing
    assert sum(p.numel() for p in model.parameters()) == 321_820_416
