# Copyright (c) mmieee contributors.
"""ProgressiveFusion: single branches kept, anchor pairs, summation branch."""
import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.fusions import ProgressiveFusion

C = 4


def _fusion(anchor=0):
    """Identity 1x1 convs; BN in eval mode with its initial statistics, so
    every block is x / sqrt(1 + eps) followed by ReLU."""
    fusion = ProgressiveFusion(num_modalities=3, in_channels=C,
                               anchor=anchor).eval()
    with torch.no_grad():
        for block in list(fusion.pair_convs) + [fusion.sum_conv]:
            block.conv.weight.copy_(torch.eye(C).view(C, C, 1, 1))
    return fusion


@pytest.mark.parametrize('anchor,total', [(0, 7.0), (2, 9.0)])
def test_hand_computation(anchor, total):
    """Maps valued 1, 2, 3 (RGB, NI, TI). Anchor RGB: pairs 1 + 2 = 3 and
    1 + 3 = 4, summation branch (3 + 4) / s / s = 7 / (1 + eps).
    Anchor TI: pairs 3 + 1 and 3 + 2, (4 + 5) / (1 + eps) = 9 / (1 + eps).
    """
    fusion = _fusion(anchor)
    eps = fusion.sum_conv.bn.eps
    maps = [torch.full((2, C, 3, 2), v) for v in (1.0, 2.0, 3.0)]
    with torch.no_grad():
        outs = fusion(maps)
    assert len(outs) == fusion.num_branches == 4
    for out, m in zip(outs[:3], maps):
        assert out is m  # the single branches are the backbone maps
    torch.testing.assert_close(
        outs[3], torch.full((2, C, 3, 2), total / (1.0 + eps)))


def test_structure_and_errors():
    fusion = ProgressiveFusion(num_modalities=2, in_channels=C)
    assert fusion.num_branches == 3 and len(fusion.pair_convs) == 1
    with pytest.raises(ValueError, match='anchor'):
        ProgressiveFusion(num_modalities=3, in_channels=C, anchor=3)
