# Copyright (c) mmieee contributors.
"""MultiStreamBackbone: one stream per modality."""
import torch

import mmieee  # noqa: F401  (applies the environment shims first)
from mmieee.models.backbones import MultiStreamBackbone
from mmieee.registry import MODELS

R18 = dict(type='mmpretrain.ResNet', depth=18, strides=(1, 2, 2, 1))


def test_streams_are_unshared_and_each_sees_its_modality():
    torch.manual_seed(0)
    backbone = MultiStreamBackbone(num_modalities=3, backbone=R18).eval()
    assert len(backbone.streams) == 3
    ptrs = {s.conv1.weight.data_ptr() for s in backbone.streams}
    assert len(ptrs) == 3
    x = torch.randn(2, 3, 3, 64, 32)
    outs = backbone(x)
    # Last stage stride 1: 64x32 / 16 = 4x2 with 512 channels (ResNet-18).
    assert len(outs) == 3 and all(o.shape == (2, 512, 4, 2) for o in outs)
    for m in range(3):
        expected = backbone.streams[m](x[:, m])[-1]
        torch.testing.assert_close(outs[m], expected)
    keys = backbone.state_dict().keys()
    assert 'streams.2.layer4.1.bn2.weight' in keys
    assert 'streams.0.conv1.weight' in keys


def test_share_weights_uses_one_module():
    backbone = MultiStreamBackbone(
        num_modalities=2, backbone=R18, share_weights=True).eval()
    assert len(backbone.streams) == 1
    x = torch.randn(1, 2, 3, 64, 32)
    x[:, 1] = x[:, 0]
    a, b = backbone(x)
    torch.testing.assert_close(a, b)


def test_pretrained_init_cfg_is_loaded_into_every_stream(tmp_path):
    # A checkpoint in torchvision's layout (ResNet names + fc) stands in for
    # torchvision://resnet50 (no network in tests).
    torch.manual_seed(1)
    source = MODELS.build(dict(R18))
    state = dict(source.state_dict())
    state['fc.weight'] = torch.zeros(10, 512)
    state['fc.bias'] = torch.zeros(10)
    ckpt = tmp_path / 'resnet18_tv.pth'
    torch.save(state, ckpt)

    backbone = MODELS.build(
        dict(
            type='MultiStreamBackbone',
            num_modalities=3,
            backbone=R18,
            init_cfg=dict(type='Pretrained', checkpoint=str(ckpt))))
    assert backbone.init_cfg is None  # routed into the streams
    backbone.init_weights()
    for stream in backbone.streams:
        for key, value in source.state_dict().items():
            torch.testing.assert_close(stream.state_dict()[key], value)


def _max_rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| relative to max |a| (float32 rounding through 18 layers
    makes element-wise relative errors meaningless near zero)."""
    return ((a - b).abs().max() / a.abs().max()).item()


def test_channels_last_streams_give_the_default_output_and_gradients():
    torch.manual_seed(2)
    default = MultiStreamBackbone(num_modalities=2, backbone=R18)
    fast = MultiStreamBackbone(
        num_modalities=2, backbone=R18, channels_last=True)
    fast.load_state_dict(default.state_dict())  # copies keep the layout
    cl = torch.channels_last
    weights = [p for p in fast.parameters() if p.dim() == 4]
    assert weights and all(p.is_contiguous(memory_format=cl)
                           for p in weights)
    assert not default.streams[0].conv1.weight.is_contiguous(
        memory_format=cl)

    x = torch.randn(2, 2, 3, 64, 32)
    outs_d, outs_f = default(x), fast(x)
    for a, b in zip(outs_d, outs_f):
        assert b.is_contiguous(memory_format=cl)  # the streams ran in NHWC
        assert _max_rel_diff(a, b) < 1e-4  # measured: 8e-6
    sum(o.square().sum() for o in outs_d).backward()
    sum(o.square().sum() for o in outs_f).backward()
    for (name, p_d), p_f in zip(default.named_parameters(),
                                fast.parameters()):
        assert _max_rel_diff(p_d.grad, p_f.grad) < 1e-3, name  # 2e-5
