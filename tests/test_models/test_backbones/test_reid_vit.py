# Copyright (c) mmieee contributors.
"""ReIDViT against independent references: a TransReID-style ViT written
out with explicit attention (camera embedding on every token) and a
CLIP-style encoder built from ``torch.nn.MultiheadAttention`` (camera
embedding on the class token, ln_pre, QuickGELU, ln_post + projection)."""
import math
from unittest import mock

import pytest
import torch
import torch.nn.functional as F

import mmieee  # noqa: F401
from mmieee.models.backbones import MultiStreamBackbone, ReIDViT
from mmieee.models.backbones.reid_vit import deterministic_attention
from mmieee.registry import MODELS

ARCH = dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64)


def _vit(**kwargs):
    cfg = dict(arch=ARCH, img_size=(32, 16), patch_size=8, num_cameras=3,
               camera_embed_coef=3.0, drop_path_rate=0.0)
    cfg.update(kwargs)
    torch.manual_seed(0)
    vit = ReIDViT(**cfg)
    vit.init_weights()
    with torch.no_grad():  # non-trivial norms and biases
        for name, p in vit.named_parameters():
            if name.endswith('bias') or 'ln' in name or 'pre_norm' in name:
                p.add_(0.1 * torch.randn_like(p))
    vit.eval()
    return vit


def _attention(x, qkv_w, qkv_b, proj_w, proj_b, heads):
    """Explicit softmax attention (B, N, C)."""
    b, n, c = x.shape
    qkv = F.linear(x, qkv_w, qkv_b).reshape(b, n, 3, heads, c // heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    att = (q @ k.transpose(-2, -1) / math.sqrt(c // heads)).softmax(-1)
    return F.linear((att @ v).transpose(1, 2).reshape(b, n, c), proj_w,
                    proj_b)


def test_transreid_style_stream_equals_the_explicit_computation():
    """Patch conv (stride 8) -> cls token -> + pos + 3.0 * E[camid] on all
    tokens -> pre-norm blocks (eps 1e-6, exact GELU) -> final LayerNorm;
    all tokens returned."""
    vit = _vit(norm_cfg=dict(type='LN', eps=1e-6))
    x = torch.randn(2, 3, 32, 16)
    camids = torch.tensor([2, 0])
    (out, ) = vit(x, camids)
    sd = vit.state_dict()
    t = F.conv2d(x, sd['patch_embed.projection.weight'],
                 sd['patch_embed.projection.bias'], stride=8)
    t = t.flatten(2).transpose(1, 2)  # row-major over the 4 x 2 grid
    t = torch.cat([sd['cls_token'].expand(2, -1, -1), t], 1)
    t = t + sd['pos_embed'] + 3.0 * sd['camera_embed'][camids]
    for i in range(2):
        p = f'layers.{i}.'

        def ln(y, name):
            return F.layer_norm(y, (32, ), sd[p + name + '.weight'],
                                sd[p + name + '.bias'], 1e-6)

        t = t + _attention(ln(t, 'ln1'), sd[p + 'attn.qkv.weight'],
                           sd[p + 'attn.qkv.bias'], sd[p + 'attn.proj.weight'],
                           sd[p + 'attn.proj.bias'], 4)
        h = F.gelu(F.linear(ln(t, 'ln2'), sd[p + 'ffn.layers.0.0.weight'],
                            sd[p + 'ffn.layers.0.0.bias']))
        t = t + F.linear(h, sd[p + 'ffn.layers.1.weight'],
                         sd[p + 'ffn.layers.1.bias'])
    t = F.layer_norm(t, (32, ), sd['ln1.weight'], sd['ln1.bias'], 1e-6)
    assert out.shape == (2, 1 + 8, 32)
    torch.testing.assert_close(out, t, rtol=1e-5, atol=1e-5)
    # the camera embedding matters, and only through camids
    (other, ) = vit(x, torch.tensor([1, 0]))
    assert not torch.allclose(other[0], out[0])
    torch.testing.assert_close(other[1], out[1])


def test_clip_style_stream_equals_multihead_attention_blocks():
    """CLIP's visual tower: bias-free patch conv, camera embedding on the
    class token only, + pos, ln_pre, blocks of nn.MultiheadAttention and a
    QuickGELU MLP, ln_post on every token, then @ proj (32 -> 16)."""
    vit = _vit(pre_norm=True, camera_tokens='cls', camera_embed_coef=1.0,
               out_channels=16, norm_cfg=dict(type='LN', eps=1e-5),
               layer_cfgs=dict(act_cfg=dict(type='mmpretrain.QuickGELU')))
    assert vit.patch_embed.projection.bias is None
    x = torch.randn(2, 3, 32, 16)
    camids = torch.tensor([1, 2])
    (out, ) = vit(x, camids)
    sd = vit.state_dict()
    t = F.conv2d(x, sd['patch_embed.projection.weight'], stride=8)
    t = torch.cat([sd['cls_token'].expand(2, -1, -1),
                   t.flatten(2).transpose(1, 2)], 1)
    t[:, 0] = t[:, 0] + sd['camera_embed'][camids][:, 0]
    t = t + sd['pos_embed']
    t = F.layer_norm(t, (32, ), sd['pre_norm.weight'], sd['pre_norm.bias'])
    for i in range(2):
        p = f'layers.{i}.'
        mha = torch.nn.MultiheadAttention(32, 4, batch_first=True)
        mha.in_proj_weight.data = sd[p + 'attn.qkv.weight']
        mha.in_proj_bias.data = sd[p + 'attn.qkv.bias']
        mha.out_proj.weight.data = sd[p + 'attn.proj.weight']
        mha.out_proj.bias.data = sd[p + 'attn.proj.bias']
        y = F.layer_norm(t, (32, ), sd[p + 'ln1.weight'], sd[p + 'ln1.bias'])
        t = t + mha(y, y, y, need_weights=False)[0]
        y = F.layer_norm(t, (32, ), sd[p + 'ln2.weight'], sd[p + 'ln2.bias'])
        h = F.linear(y, sd[p + 'ffn.layers.0.0.weight'],
                     sd[p + 'ffn.layers.0.0.bias'])
        h = h * torch.sigmoid(1.702 * h)
        t = t + F.linear(h, sd[p + 'ffn.layers.1.weight'],
                         sd[p + 'ffn.layers.1.bias'])
    t = F.layer_norm(t, (32, ), sd['ln1.weight'], sd['ln1.bias']) @ sd['proj']
    assert out.shape == (2, 9, 16)
    torch.testing.assert_close(out, t, rtol=1e-5, atol=1e-5)
    # only the class token sees the camera
    (other, ) = vit(x, torch.tensor([0, 2]))
    assert not torch.allclose(other[0], out[0])


def test_loaded_position_embedding_of_another_grid_is_resized():
    """A 4 x 4 (+ cls) checkpoint into a 4 x 2 model: bilinear resize of the
    grid, the class position kept (TransReID's / CLIP-ReID's loaders)."""
    vit = _vit()
    sd = vit.state_dict()
    src = torch.randn(1, 1 + 16, 32)
    sd['pos_embed'] = src.clone()
    vit.load_state_dict(sd)
    grid = src[0, 1:].reshape(1, 4, 4, 32).permute(0, 3, 1, 2)
    want = F.interpolate(grid, size=(4, 2), mode='bilinear',
                         align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(vit.pos_embed[0, 0], src[0, 0])
    torch.testing.assert_close(vit.pos_embed[0, 1:], want.reshape(8, 32))
    sd['pos_embed'] = torch.randn(1, 1 + 10, 32)  # 10: no square grid
    with pytest.raises(ValueError, match='10 position tokens, not a square'):
        vit.load_state_dict(sd)


def test_camera_ids_are_required_and_checked_at_the_model_entry():
    from mmpretrain.structures import DataSample
    vit_cfg = dict(type='ReIDViT', arch=ARCH, img_size=(32, 16),
                   patch_size=8, num_cameras=2)
    with pytest.raises(ValueError, match='needs the camera id'):
        ReIDViT(**{k: v for k, v in vit_cfg.items() if k != 'type'})(
            torch.randn(1, 3, 32, 16))
    backbone = MultiStreamBackbone(num_modalities=2, backbone=vit_cfg)
    assert backbone.needs_camids and backbone.num_cameras == 2
    model = MODELS.build(dict(
        type='MultiModalReID', modalities=('RGB', 'TI'),
        backbone=dict(type='MultiStreamBackbone', backbone=vit_cfg),
        neck=dict(type='LateSumFusion', in_channels=32),
        head=dict(type='IEEEHead', num_classes=3, num_parts=1,
                  in_channels=32, metric_losses=())))
    assert model.backbone_needs_camids
    model.init_weights()  # camera embedding: truncated normal, std 0.02
    samples = [DataSample(metainfo=dict(camid=1)), DataSample()]
    with pytest.raises(ValueError, match=r'needs each sample\'s "camid".*'
                       'data sample 1 has none'):
        model.camera_ids(samples, torch.device('cpu'))
    with pytest.raises(ValueError, match='data sample 0 has camid 2, '
                       'outside the camera embedding table of 2 cameras'):
        model.camera_ids([DataSample(metainfo=dict(camid=2))],
                         torch.device('cpu'))
    assert model.camera_ids(samples[:1], torch.device('cpu')).tolist() == [1]
    # the ids reach each stream: tokens of a sample change with its camid
    inputs = torch.randn(2, 2, 3, 32, 16)
    maps = model.backbone(inputs, camids=torch.tensor([0, 1]))
    same = model.backbone(inputs, camids=torch.tensor([0, 0]))
    torch.testing.assert_close(maps[1][0], same[1][0])
    assert not torch.allclose(maps[1][1], same[1][1])


def test_deterministic_mode_selects_the_math_attention_kernel():
    with deterministic_attention() as ctx:  # CPU / not deterministic
        assert ctx is None
    with mock.patch('torch.are_deterministic_algorithms_enabled',
                    return_value=True), \
            mock.patch('torch.cuda.is_available', return_value=True), \
            mock.patch('torch.nn.attention.sdpa_kernel') as kernel:
        deterministic_attention()
    from torch.nn.attention import SDPBackend
    kernel.assert_called_once_with(SDPBackend.MATH)
