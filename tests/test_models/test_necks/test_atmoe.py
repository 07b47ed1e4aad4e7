# Copyright (c) mmieee contributors.
"""ATMoE against a scalar-by-scalar hand computation of the official MoM:
out[b, e*D + h*d + c] = gate[b, h, e] * Expert_{h,e}(x_e[b, h*d:(h+1)*d])[c],
with gate[b, h, :] = softmax over the experts of q_h . k_{e,h} / sqrt(d)."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmieee.models.necks import ATMoE


def _model(**kwargs):
    torch.manual_seed(0)
    moe = ATMoE(**kwargs)
    with torch.no_grad():
        for name, p in moe.named_parameters():
            if p.dim() == 2:  # sharp gates: a head / expert mix-up shows
                p.mul_(3)
            else:
                p.add_(0.2 * torch.randn_like(p))
        for name, buf in moe.named_buffers():
            if 'running_mean' in name:
                buf.normal_(0, 0.1)
            elif 'running_var' in name:
                buf.uniform_(0.5, 1.5)
    return moe.eval()


def _mlp(seq, x):
    """Linear -> QuickGELU -> BatchNorm1d (eval) by hand."""
    lin, _, bn = seq
    y = x @ lin.weight.t() + lin.bias
    y = y * torch.sigmoid(1.702 * y)
    return (y - bn.running_mean) / torch.sqrt(bn.running_var +
                                              bn.eps) * bn.weight + bn.bias


def test_gates_and_mixture_equal_the_hand_computation():
    moe = _model(embed_dims=12, num_experts=5, num_heads=3)
    x = torch.randn(2, 5, 12)
    out, gates = moe(x)
    assert out.shape == (2, 60) and gates.shape == (2, 3, 5)
    d = 4
    q = F.linear(_mlp(moe.gate_reduce, x.reshape(2, 60)),
                 moe.gate_query.weight)  # (B, D)
    k = F.linear(x, moe.gate_key.weight)  # (B, E, D)
    for b in range(2):
        for h in range(3):
            logits = torch.stack([
                (q[b, h * d:(h + 1) * d] * k[b, e, h * d:(h + 1) * d]).sum()
                / math.sqrt(d) for e in range(5)
            ])
            want = logits.softmax(0)
            torch.testing.assert_close(gates[b, h], want)
            for e in range(5):
                expert = _mlp(moe.experts[h][e], x[b:b + 1, e,
                                                   h * d:(h + 1) * d])[0]
                block = out[b, e * 12 + h * d:e * 12 + (h + 1) * d]
                torch.testing.assert_close(block, want[e] * expert)
    torch.testing.assert_close(gates.sum(-1), torch.ones(2, 3))
    assert gates.max() > 0.5  # the gates are far from uniform here


def test_batch_of_one_and_wrong_inputs():
    moe = _model(embed_dims=8, num_experts=7, num_heads=4)
    out, gates = moe(torch.randn(1, 7, 8))
    assert out.shape == (1, 56) and gates.shape == (1, 4, 7)
    with pytest.raises(ValueError, match=r'\(B, E=7, D=8\) features, got'):
        moe(torch.randn(2, 6, 8))
    with pytest.raises(ValueError, match='not divisible by num_heads=3'):
        ATMoE(embed_dims=8, num_heads=3)
