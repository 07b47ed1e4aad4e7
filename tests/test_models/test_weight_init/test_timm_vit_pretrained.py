# Copyright (c) mmieee contributors.
"""The ImageNet initialisation of TOP-ReID's streams (``TimmViTPretrained``)
equals the official ``Trans.load_param``.

Fixture: the official code loaded a timm-layout ViT-B/16 file (the 152 keys
of ``imagenet.checkpoint_keys``, head 21843 x 768, values from
``mmieee.testing.seeded_state_dict``) into a stream built as
``vit_base_patch16_224(img_size=[256, 128], sie_xishu=3.0, camera=4,
stride_size=[16, 16])`` and stored summaries of the loaded ``pos_embed``
(resized 14 x 14 -> 16 x 8) and ``norm.weight`` (command and run: see
tests/test_models/test_reid/test_topreid_official_equality.py). Here the
same file is regenerated and saved, loaded through the initializer into the
stream of ``configs/_base_/models/topreid_vit-b16.py``, and the weights are
compared with the fixture (the copied tensors with the regenerated ones
directly).
"""
import copy
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

import mmieee  # noqa: F401
from mmieee.models.weight_init import loads_weights
from mmieee.models.weight_init.timm_vit_pretrained import timm_to_mmpretrain
from mmieee.registry import MODELS
from mmieee.testing.seeded_weights import (relative_difference,
                                           seeded_state_dict, summarize)
from mmieee.utils import ConfigError

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / 'tests' / 'data' / 'topreid'
MODEL_CONFIG = REPO / 'configs' / '_base_' / 'models' / 'topreid_vit-b16.py'

TINY = dict(type='ReIDViT', arch=dict(embed_dims=16, num_layers=2,
                                      num_heads=2, feedforward_channels=32),
            img_size=(32, 16), patch_size=8, num_cameras=2,
            camera_embed_coef=3.0, norm_cfg=dict(type='LN', eps=1e-6))


def _timm_keys(embed=16, layers=2, grid=16, head=5):
    """A timm ViT layout (patch 8, 3 channels) for the fast tests."""
    keys = [('cls_token', [1, 1, embed]),
            ('pos_embed', [1, 1 + grid, embed]),
            ('patch_embed.proj.weight', [embed, 3, 8, 8]),
            ('patch_embed.proj.bias', [embed])]
    for i in range(layers):
        b = f'blocks.{i}.'
        keys += [(b + 'norm1.weight', [embed]), (b + 'norm1.bias', [embed]),
                 (b + 'attn.qkv.weight', [3 * embed, embed]),
                 (b + 'attn.qkv.bias', [3 * embed]),
                 (b + 'attn.proj.weight', [embed, embed]),
                 (b + 'attn.proj.bias', [embed]),
                 (b + 'norm2.weight', [embed]), (b + 'norm2.bias', [embed]),
                 (b + 'mlp.fc1.weight', [2 * embed, embed]),
                 (b + 'mlp.fc1.bias', [2 * embed]),
                 (b + 'mlp.fc2.weight', [embed, 2 * embed]),
                 (b + 'mlp.fc2.bias', [embed])]
    return keys + [('norm.weight', [embed]), ('norm.bias', [embed]),
                   ('head.weight', [head, embed]), ('head.bias', [head])]


def _stream(path, **kwargs):
    cfg = dict(TINY, init_cfg=dict(type='TimmViTPretrained',
                                   checkpoint=str(path)))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def test_full_size_stream_equals_the_official_load(tmp_path):
    ref = json.loads((DATA / 'topreid_rgbnt201_reference.json').read_text(
    ))['imagenet']
    ckpt = seeded_state_dict(ref['checkpoint_keys'])
    path = tmp_path / 'vitb_16_224_21k.pth'
    torch.save(ckpt, path)
    stream_cfg = copy.deepcopy(
        Config.fromfile(str(MODEL_CONFIG)).model.backbone.backbone.to_dict())
    stream_cfg['init_cfg'] = dict(type='TimmViTPretrained',
                                  checkpoint=str(path))
    torch.manual_seed(0)
    stream = MODELS.build(stream_cfg)
    stream.init_weights()
    state = stream.state_dict()
    # resized position embedding: the official summary, the class position
    # copied
    pos = state['pos_embed'][0]
    assert relative_difference(summarize(pos), ref['pos_embed']) < 1e-4
    assert torch.equal(pos[0], ckpt['pos_embed'][0, 0])
    assert relative_difference(summarize(state['ln1.weight']),
                               ref['norm_weight']) < 1e-4
    # every copied tensor is the file's (under mmpretrain's name)
    assert len(ref['copied_exactly']) == 149
    for key in ref['copied_exactly']:
        assert torch.equal(state[timm_to_mmpretrain(key)], ckpt[key]), key
    # the camera embedding keeps its own initialisation (trunc normal .02)
    cam = state['camera_embed']
    assert cam.shape == (4, 1, 768) and 0.015 < float(cam.std()) < 0.025


def test_pos_embed_resize_is_bilinear_without_align_corners(tmp_path):
    ckpt = seeded_state_dict(_timm_keys(grid=16))  # 4 x 4 grid
    torch.save({'model': ckpt}, tmp_path / 'vit.pth')  # unwrapped
    stream = _stream(tmp_path / 'vit.pth')
    stream.init_weights()
    grid = ckpt['pos_embed'][0, 1:].reshape(1, 4, 4, 16).permute(0, 3, 1, 2)
    want = F.interpolate(grid, size=(4, 2), mode='bilinear',
                         align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(stream.pos_embed[0, 1:], want.reshape(8, 16))
    torch.testing.assert_close(stream.layers[1].ffn.layers[1].weight,
                               ckpt['blocks.1.mlp.fc2.weight'])


def test_flattened_patch_weight_and_skipped_keys(tmp_path):
    ckpt = seeded_state_dict(_timm_keys())
    ckpt['patch_embed.proj.weight'] = ckpt['patch_embed.proj.weight'].reshape(
        16, -1)
    ckpt['pre_logits.fc.weight'] = torch.zeros(16, 16)
    ckpt['dist_token'] = torch.zeros(1, 1, 16)
    torch.save(ckpt, tmp_path / 'vit.pth')
    stream = _stream(tmp_path / 'vit.pth')
    stream.init_weights()
    torch.testing.assert_close(stream.patch_embed.projection.weight.flatten(1),
                               ckpt['patch_embed.proj.weight'])


def test_runs_after_the_default_initialisation_of_every_stream(tmp_path):
    """In a MultiStreamBackbone init_cfg it reaches every stream, after
    mmpretrain's own init (which would redraw pos_embed otherwise)."""
    ckpt = seeded_state_dict(_timm_keys(grid=8))  # 4 x 2: no resize
    torch.save(ckpt, tmp_path / 'vit.pth')
    assert loads_weights(dict(type='TimmViTPretrained', checkpoint='x'))
    assert loads_weights(dict(type='Pretrained', checkpoint='x'))
    assert not loads_weights(dict(type='Normal'))
    backbone = MODELS.build(dict(
        type='MultiStreamBackbone', num_modalities=2, backbone=TINY,
        init_cfg=dict(type='TimmViTPretrained',
                      checkpoint=str(tmp_path / 'vit.pth'))))
    backbone.init_weights()
    for stream in backbone.streams:
        torch.testing.assert_close(stream.pos_embed, ckpt['pos_embed'])
        torch.testing.assert_close(stream.cls_token, ckpt['cls_token'])
    cams = [s.camera_embed for s in backbone.streams]
    assert not torch.equal(cams[0], cams[1])  # drawn, not loaded


def test_missing_file_and_wrong_layout_are_named(tmp_path):
    stream = _stream(tmp_path / 'vitb_16_224_21k.pth')
    with pytest.raises(ConfigError,
                       match=r'vitb_16_224_21k.pth.*does not exist.*'
                       r'docs/topreid.md'):
        stream.init_weights()
    ckpt = seeded_state_dict(_timm_keys())
    del ckpt['blocks.1.norm2.bias']
    ckpt['blocks.0.attn.qkv.weight'] = torch.zeros(3, 3)
    ckpt['extra.weight'] = torch.zeros(1)
    torch.save(ckpt, tmp_path / 'bad.pth')
    with pytest.raises(ConfigError) as info:
        _stream(tmp_path / 'bad.pth').init_weights()
    text = str(info.value)
    assert 'bad.pth' in text and "'extra.weight'" in text
    assert "'layers.1.ln2.bias'" in text
    assert 'layers.0.attn.qkv.weight: (3, 3) in the file, (48, 16)' in text
    with pytest.raises(TypeError, match='initialises a ViT stream'):
        from mmieee.registry import WEIGHT_INITIALIZERS
        WEIGHT_INITIALIZERS.build(dict(type='TimmViTPretrained',
                                       checkpoint='x'))(torch.nn.Linear(1, 1))
