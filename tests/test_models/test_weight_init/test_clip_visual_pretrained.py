# Copyright (c) mmieee contributors.
"""CLIPVisualPretrained on a small CLIP-shaped file: every visual tensor
lands where it belongs, unchanged; the position embedding is resized as the
official loader resizes it; the text tower is ignored; the camera embedding
keeps its own initialisation; nothing is undone by the random
initialisation of the layers. (The ViT-B/16 file against the official
loader: tests/test_tools/test_demo_official_to_mmieee.py.)"""
import pytest
import torch
import torch.nn.functional as F

import mmieee  # noqa: F401
from mmieee.models.backbones import ReIDViT
from mmieee.models.weight_init import (CLIPVisualPretrained,
                                       openai_visual_to_reid_vit,
                                       split_weight_loaders)
from mmieee.registry import MODELS
from mmieee.testing.seeded_weights import seeded_state_dict
from mmieee.utils import CheckpointMismatchError, ConfigError

WIDTH, LAYERS, PATCH, GRID, OUT = 32, 2, 8, 4, 16


def openai_keys():
    """A small CLIP state dict in OpenAI's names (both towers)."""
    keys = [('visual.class_embedding', [WIDTH]),
            ('visual.positional_embedding', [1 + GRID * GRID, WIDTH]),
            ('visual.proj', [WIDTH, OUT]),
            ('visual.conv1.weight', [WIDTH, 3, PATCH, PATCH]),
            ('visual.ln_pre.weight', [WIDTH]), ('visual.ln_pre.bias', [WIDTH])]
    for i in range(LAYERS):
        p = f'visual.transformer.resblocks.{i}.'
        keys += [(p + 'attn.in_proj_weight', [3 * WIDTH, WIDTH]),
                 (p + 'attn.in_proj_bias', [3 * WIDTH]),
                 (p + 'attn.out_proj.weight', [WIDTH, WIDTH]),
                 (p + 'attn.out_proj.bias', [WIDTH]),
                 (p + 'ln_1.weight', [WIDTH]), (p + 'ln_1.bias', [WIDTH]),
                 (p + 'mlp.c_fc.weight', [4 * WIDTH, WIDTH]),
                 (p + 'mlp.c_fc.bias', [4 * WIDTH]),
                 (p + 'mlp.c_proj.weight', [WIDTH, 4 * WIDTH]),
                 (p + 'mlp.c_proj.bias', [WIDTH]),
                 (p + 'ln_2.weight', [WIDTH]), (p + 'ln_2.bias', [WIDTH])]
    keys += [('visual.ln_post.weight', [WIDTH]),
             ('visual.ln_post.bias', [WIDTH]), ('text_projection', [16, 16]),
             ('logit_scale', []), ('token_embedding.weight', [10, 16])]
    return keys


@pytest.fixture()
def clip_file(tmp_path):
    sd = seeded_state_dict(openai_keys())
    sd['input_resolution'] = torch.tensor(GRID * PATCH)
    path = tmp_path / 'clip.pt'
    torch.save(sd, path)
    return str(path), sd


def _vit(checkpoint, **kwargs):
    cfg = dict(
        arch=dict(embed_dims=WIDTH, num_layers=LAYERS, num_heads=4,
                  feedforward_channels=4 * WIDTH),
        img_size=(32, 16), patch_size=PATCH, pre_norm=True,
        norm_cfg=dict(type='LN', eps=1e-5), out_channels=OUT, num_cameras=3,
        camera_tokens='cls',
        layer_cfgs=dict(act_cfg=dict(type='mmpretrain.QuickGELU')),
        init_cfg=dict(type='CLIPVisualPretrained', checkpoint=checkpoint))
    cfg.update(kwargs)
    return ReIDViT(**cfg)


def test_every_visual_tensor_is_loaded_unchanged(clip_file):
    path, sd = clip_file
    vit = _vit(path)
    torch.manual_seed(0)
    vit.init_weights()
    got = vit.state_dict()
    torch.testing.assert_close(got['cls_token'][0, 0],
                               sd['visual.class_embedding'], rtol=0, atol=0)
    for ours, theirs in [
        ('proj', 'proj'), ('patch_embed.projection.weight', 'conv1.weight'),
        ('pre_norm.weight', 'ln_pre.weight'), ('ln1.bias', 'ln_post.bias'),
        ('layers.1.attn.qkv.weight', 'transformer.resblocks.1.attn.'
         'in_proj_weight'),
        ('layers.0.attn.qkv.bias', 'transformer.resblocks.0.attn.'
         'in_proj_bias'),
        ('layers.0.attn.proj.weight', 'transformer.resblocks.0.attn.'
         'out_proj.weight'),
        ('layers.1.ln2.weight', 'transformer.resblocks.1.ln_2.weight'),
        # the layers' own init (xavier, biases ~1e-6) would change these
        ('layers.0.ffn.layers.0.0.bias', 'transformer.resblocks.0.mlp.c_fc.'
         'bias'),
        ('layers.1.ffn.layers.1.weight', 'transformer.resblocks.1.mlp.'
         'c_proj.weight'),
    ]:
        torch.testing.assert_close(got[ours], sd['visual.' + theirs],
                                   rtol=0, atol=0, msg=ours)
    # 4 x 4 grid -> the model's 4 x 2, bilinear, align_corners False, class
    # row kept (the official resize_pos_embed)
    pos = sd['visual.positional_embedding']
    grid = pos[1:].reshape(1, GRID, GRID, WIDTH).permute(0, 3, 1, 2)
    want = F.interpolate(grid, size=(4, 2), mode='bilinear',
                         align_corners=False).permute(0, 2, 3, 1).reshape(
                             8, WIDTH)
    torch.testing.assert_close(got['pos_embed'][0, 0], pos[0], rtol=0,
                               atol=0)
    torch.testing.assert_close(got['pos_embed'][0, 1:], want, rtol=0, atol=0)
    # not in the file: the camera embedding keeps its truncated normal
    assert 0.01 < float(got['camera_embed'].std()) < 0.03


def test_loaded_through_the_whole_model(clip_file):
    """init_cfg inside the shared stream of a DeMo model is applied by the
    model's init_weights (the Runner's call)."""
    path, sd = clip_file
    stream = dict(
        type='ReIDViT',
        arch=dict(embed_dims=WIDTH, num_layers=LAYERS, num_heads=4,
                  feedforward_channels=4 * WIDTH),
        img_size=(32, 16), patch_size=PATCH, pre_norm=True,
        out_channels=OUT, num_cameras=2, camera_tokens='cls',
        init_cfg=dict(type='CLIPVisualPretrained', checkpoint=path))
    model = MODELS.build(
        dict(type='MultiModalReID',
             backbone=dict(type='MultiStreamBackbone', share_weights=True,
                           backbone=stream),
             neck=dict(type='DeMoNeck', in_channels=OUT,
                       hdm=dict(type='HDM', num_heads=2),
                       atmoe=dict(type='ATMoE', num_heads=2)),
             head=dict(type='BNNeckHead', num_classes=3,
                       branches=dict(moe=7 * OUT, ori=3 * OUT),
                       test_feature=('ori', 'moe'))))
    model.init_weights()
    torch.testing.assert_close(
        model.backbone.streams[0].layers[0].ffn.layers[0][0].bias,
        sd['visual.transformer.resblocks.0.mlp.c_fc.bias'], rtol=0, atol=0)


def test_missing_or_wrong_files_are_named(tmp_path, clip_file):
    missing = str(tmp_path / 'nowhere' / 'ViT-B-16.pt')
    with pytest.raises(ConfigError) as err:
        _vit(missing).init_weights()
    for part in (missing, 'openaipublic.azureedge.net', 'ViT-B-16.pt',
                 '~/.cache/clip/ViT-B-16.pt', 'clip-vit-base-patch16',
                 'docs/demo.md'):
        assert part in str(err.value)
    rn50 = tmp_path / 'rn50.pt'
    torch.save({'visual.layer1.0.conv1.weight': torch.zeros(1)}, rn50)
    with pytest.raises(CheckpointMismatchError, match='visual.layer1.0'):
        _vit(str(rn50)).init_weights()
    path, _ = clip_file  # 32-wide file, 48-wide model
    with pytest.raises(CheckpointMismatchError, match='does not fit ReIDViT'):
        _vit(path, arch=dict(embed_dims=48, num_layers=LAYERS, num_heads=4,
                             feedforward_channels=64)).init_weights()


def test_visual_tower_alone_and_the_loader_split():
    sd = seeded_state_dict(
        [(k[len('visual.'):], s) for k, s in openai_keys()
         if k.startswith('visual.')])
    out = openai_visual_to_reid_vit(sd)
    assert out['cls_token'].shape == (1, 1, WIDTH)
    assert out['pos_embed'].shape == (1, 1 + GRID * GRID, WIDTH)
    assert len(out) == len(sd)
    loaders, others = split_weight_loaders([
        dict(type='CLIPVisualPretrained', checkpoint='x'),
        dict(type='Pretrained', checkpoint='y'),
        dict(type='Kaiming', layer='Conv2d')
    ])
    assert [c['type'] for c in loaders] == ['CLIPVisualPretrained']
    assert [c['type'] for c in others] == ['Pretrained', 'Kaiming']
    assert split_weight_loaders(None) == ([], [])
    assert isinstance(
        CLIPVisualPretrained().missing_file_message('p'), str)
