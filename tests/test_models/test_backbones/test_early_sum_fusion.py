# Copyright (c) mmieee contributors.
"""EarlySumFusion: the M normalised images summed, one stream, one branch."""
import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.backbones import EarlySumFusion

STREAM = dict(
    type='mmpretrain.ResNet',
    depth=18,
    stem_channels=8,
    base_channels=8,
    strides=(1, 2, 2, 1),
    out_indices=(3, ))


def _images(values=(1.0, 2.0, 3.0), size=(2, 3, 16, 8)):
    """(B, M, C, H, W) batch whose modality m is ``values[m]`` everywhere."""
    b, c, h, w = size
    return torch.stack([torch.full((b, c, h, w), v) for v in values], dim=1)


def test_images_valued_1_2_3_fuse_to_6_everywhere():
    fused = EarlySumFusion.fuse(_images())
    assert fused.shape == (2, 3, 16, 8)
    assert torch.equal(fused, torch.full_like(fused, 6.0))


def test_one_stream_sees_the_sum():
    fusion = EarlySumFusion(num_modalities=3, backbone=STREAM).eval()
    assert len(fusion.streams) == 1 and fusion.num_branches == 1
    seen = []
    fusion.streams[0].register_forward_hook(
        lambda mod, args, out: seen.append(args[0].clone()))
    images = torch.randn(2, 3, 3, 32, 16)
    with torch.no_grad():
        (out, ) = fusion(images)
        expected = fusion.streams[0](images[:, 0] + images[:, 1] +
                                     images[:, 2])[-1]
    torch.testing.assert_close(seen[0], images.sum(dim=1))
    assert out.shape == (2, 64, 2, 1)  # 8 x 8 channels, 32 x 16 / 16
    torch.testing.assert_close(out, expected)


def test_errors():
    with pytest.raises(ValueError, match='num_modalities >= 2'):
        EarlySumFusion(num_modalities=1, backbone=STREAM)
