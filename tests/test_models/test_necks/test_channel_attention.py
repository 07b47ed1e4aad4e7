# Copyright (c) mmieee contributors.
"""CBAM channel attention (the CA of paper Eq. 1) against its formula."""
import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.necks import ChannelAttention

C = 8


def _randomise(module):
    gen = torch.Generator().manual_seed(0)
    for tensor in module.state_dict().values():
        tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.5)
    return module.eval().double()


def _channel_attention(ca, x):
    w1 = ca.reduce.conv.weight[:, :, 0, 0]
    w2 = ca.expand.conv.weight[:, :, 0, 0]

    def mlp(v):
        return (w2 @ (w1 @ v).clamp_min(0))

    out = []
    for b in range(x.size(0)):
        avg = x[b].mean(dim=(1, 2))
        mx = x[b].flatten(1).max(dim=1).values
        out.append(torch.sigmoid(mlp(avg) + mlp(mx)))
    return torch.stack(out)[:, :, None, None]


def test_channel_attention_matches_cbam_formula():
    ca = _randomise(ChannelAttention(C, ratio=4))
    assert ca.reduce.conv.weight.shape == (2, C, 1, 1)
    assert ca.expand.conv.weight.shape == (C, 2, 1, 1)
    assert ca.reduce.conv.bias is None and ca.expand.conv.bias is None
    x = torch.randn(3, C, 4, 2, dtype=torch.double)
    torch.testing.assert_close(ca(x), _channel_attention(ca, x))


def test_channel_attention_ratio_too_large():
    with pytest.raises(ValueError, match='lower `ratio`'):
        ChannelAttention(8, ratio=16)
