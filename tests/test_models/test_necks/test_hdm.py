# Copyright (c) mmieee contributors.
"""HDM against an explicit multi-head attention: each combination's query
token attends to the tokens of its modalities only, in the official order
R, N, T, RN, RT, NT, RNT; dropout lives in the standard modules."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmieee.models.necks import HDM
from mmieee.models.necks.hdm import modality_combinations


def test_combinations_are_the_official_order():
    assert modality_combinations(3) == [(0, ), (1, ), (2, ), (0, 1), (0, 2),
                                        (1, 2), (0, 1, 2)]
    assert modality_combinations(2) == [(0, ), (1, ), (0, 1)]
    assert HDM(embed_dims=8, num_modalities=3, num_heads=2).num_outputs == 7


def _attention(query, kv, mha, heads):
    """softmax(q k^T / sqrt(d)) v with the packed in-projection, then the
    output projection; query (D,), kv (B, L, D) -> (B, D)."""
    d_model = query.shape[0]
    w_q, w_k, w_v = mha.in_proj_weight.chunk(3)
    b_q, b_k, b_v = mha.in_proj_bias.chunk(3)
    q = (query @ w_q.t() + b_q).reshape(heads, -1)  # (H, d)
    k = (kv @ w_k.t() + b_k).reshape(kv.shape[0], kv.shape[1], heads, -1)
    v = (kv @ w_v.t() + b_v).reshape(kv.shape[0], kv.shape[1], heads, -1)
    d = d_model // heads
    att = torch.einsum('hd,blhd->bhl', q, k) / math.sqrt(d)
    out = torch.einsum('bhl,blhd->bhd', att.softmax(-1), v).reshape(
        kv.shape[0], d_model)
    return F.linear(out, mha.out_proj.weight, mha.out_proj.bias)


def test_each_query_attends_to_its_modalities():
    torch.manual_seed(0)
    hdm = HDM(embed_dims=16, num_modalities=3, num_heads=4).eval()
    with torch.no_grad():
        for mha in hdm.attentions:  # non-zero biases
            mha.in_proj_bias.normal_(0, 0.1)
            mha.out_proj.bias.normal_(0, 0.1)
    seqs = [torch.randn(2, 1 + 3 + m, 16) for m in range(3)]  # L differ
    out = hdm(seqs)
    assert out.shape == (2, 7, 16)
    for k, combo in enumerate(modality_combinations(3)):
        kv = torch.cat([seqs[m] for m in combo], dim=1)
        want = _attention(hdm.queries[k], kv, hdm.attentions[k], 4)
        torch.testing.assert_close(out[:, k], want, rtol=1e-5, atol=1e-6)
    # changing TI changes exactly the combinations that contain it
    seqs[2] = seqs[2] + 1
    other = hdm(seqs)
    for k, combo in enumerate(modality_combinations(3)):
        assert torch.allclose(other[:, k], out[:, k]) == (2 not in combo)


def test_dropout_is_the_attention_modules_and_can_be_switched_off():
    torch.manual_seed(0)
    hdm = HDM(embed_dims=16, num_modalities=2, num_heads=2, dropout=0.5)
    assert all(m.dropout == 0.5 for m in hdm.attentions)
    seqs = [torch.randn(3, 20, 16) for _ in range(2)]
    hdm.eval()
    ref = hdm(seqs)
    hdm.train()
    assert not torch.allclose(hdm(seqs), ref)
    for m in hdm.attentions:
        m.dropout = 0.0
    torch.testing.assert_close(hdm(seqs), ref)


def test_wrong_inputs_are_named():
    hdm = HDM(embed_dims=16, num_modalities=3, num_heads=2)
    with pytest.raises(ValueError, match='built for 3 modalities, got 2'):
        hdm([torch.randn(1, 4, 16)] * 2)
    with pytest.raises(ValueError, match='one B and D = embed_dims = 16'):
        hdm([torch.randn(1, 4, 16), torch.randn(2, 4, 16),
             torch.randn(1, 4, 16)])
    with pytest.raises(ValueError, match='not divisible by num_heads=3'):
        HDM(embed_dims=16, num_heads=3)
    assert HDM(embed_dims=512).attentions[0].num_heads == 8  # official D//64
