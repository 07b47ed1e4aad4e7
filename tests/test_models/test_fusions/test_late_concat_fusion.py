# Copyright (c) mmieee contributors.
"""LateConcatFusion: channel concatenation, 1x1 conv, BN, ReLU."""
import torch

import mmieee  # noqa: F401
from mmieee.models.fusions import LateConcatFusion

C = 4


def _fusion():
    """Conv weights [1 I, 2 I, 3 I]: output channel c = f1_c + 2 f2_c +
    3 f3_c; BN in eval mode with its initial statistics (mean 0, var 1)."""
    fusion = LateConcatFusion(num_modalities=3, in_channels=C).eval()
    eye = torch.eye(C)
    with torch.no_grad():
        fusion.reduce.conv.weight.copy_(
            torch.cat([eye, 2 * eye, 3 * eye], dim=1).view(C, 3 * C, 1, 1))
    return fusion


def test_hand_computation():
    eps = _fusion().reduce.bn.eps
    maps = [torch.full((2, C, 3, 2), v) for v in (1.0, 2.0, 3.0)]
    with torch.no_grad():
        (out, ) = _fusion()(maps)
    # 1 * 1 + 2 * 2 + 3 * 3 = 14, then BN (x - 0) / sqrt(1 + eps), ReLU
    expected = torch.full((2, C, 3, 2), 14.0 / (1.0 + eps)**0.5)
    torch.testing.assert_close(out, expected)
    negative = [-m for m in maps]
    with torch.no_grad():
        (out, ) = _fusion()(negative)
    assert torch.equal(out, torch.zeros_like(out))  # ReLU


def test_shapes_and_errors():
    fusion = LateConcatFusion(num_modalities=2, in_channels=C)
    assert fusion.num_branches == 1
    assert fusion.reduce.conv.weight.shape == (C, 2 * C, 1, 1)
    assert fusion.reduce.conv.bias is None
