# Copyright (c) mmieee contributors.
"""ComplementaryReconstruction (TOP-ReID's CRM) against a hand computation:
bias-free-qkv transformer layers per (source, target) pair, the summed MSE
of every pair, and the official missing-modality rule."""
import pytest
import torch
import torch.nn.functional as F

import mmieee  # noqa: F401
from mmieee.registry import MODELS

C, HEADS, N = 8, 2, 4


def _crm(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='ComplementaryReconstruction', num_modalities=3,
               embed_dims=C, num_heads=HEADS, feedforward_channels=16)
    cfg.update(kwargs)
    crm = MODELS.build(cfg)
    crm.init_weights()
    with torch.no_grad():
        for name, p in crm.named_parameters():
            if 'ln' in name or name.endswith('bias'):
                p.add_(0.2 * torch.randn_like(p))
    crm.eval()
    return crm


def _unit(sd, prefix, x):
    """One pre-norm layer, attention without qkv bias, written out."""
    def ln(y, name):
        return F.layer_norm(y, (C, ), sd[f'{prefix}{name}.weight'],
                            sd[f'{prefix}{name}.bias'], 1e-5)

    b, n, _ = x.shape
    d = C // HEADS
    q, k, v = (ln(x, 'ln1') @ sd[prefix + 'attn.qkv.weight'].t()).reshape(
        b, n, 3, HEADS, d).permute(2, 0, 3, 1, 4)
    att = (q @ k.transpose(-2, -1) * d**-0.5).softmax(-1)
    x = x + (att @ v).transpose(1, 2).reshape(b, n, C) @ \
        sd[prefix + 'attn.proj.weight'].t() + sd[prefix + 'attn.proj.bias']
    h = F.gelu(ln(x, 'ln2') @ sd[prefix + 'ffn.layers.0.0.weight'].t() +
               sd[prefix + 'ffn.layers.0.0.bias'])
    return x + h @ sd[prefix + 'ffn.layers.1.weight'].t() + \
        sd[prefix + 'ffn.layers.1.bias']


def _tokens():
    gen = torch.Generator().manual_seed(3)
    return [torch.randn(2, 1 + N, C, generator=gen) for _ in range(3)]


def test_units_have_no_qkv_bias_and_equal_the_layer_written_out():
    crm = _crm()
    assert sorted(crm.units) == ['0_to_1', '0_to_2', '1_to_0', '1_to_2',
                                 '2_to_0', '2_to_1']
    assert crm.units['0_to_1'][0].attn.qkv.bias is None
    sd = crm.state_dict()
    x = _tokens()[0]
    torch.testing.assert_close(crm.rebuild(0, 2, x),
                               _unit(sd, 'units.0_to_2.0.', x),
                               rtol=1e-5, atol=1e-5)


def test_loss_is_the_sum_of_the_six_mses_and_reaches_both_maps():
    crm = _crm()
    sd = crm.state_dict()
    tokens = [t.requires_grad_() for t in _tokens()]
    pairs = crm.pair_losses(tokens)
    assert list(pairs) == ['0_to_1', '0_to_2', '1_to_0', '1_to_2', '2_to_0',
                           '2_to_1']  # RGB->NI, RGB->TI, NI->RGB, ...
    for key, value in pairs.items():
        s, t = (int(i) for i in key.split('_to_'))
        want = ((_unit(sd, f'units.{key}.0.', tokens[s]) - tokens[t])**2
                ).mean()
        torch.testing.assert_close(value, want, rtol=1e-5, atol=1e-6)
    total = crm.loss(tokens)
    torch.testing.assert_close(total, sum(pairs.values()))
    total.backward()  # not detached: every token map gets a gradient
    assert all(t.grad is not None and t.grad.abs().sum() > 0 for t in tokens)


def test_missing_modalities_are_the_mean_of_their_reconstructions():
    crm = _crm()
    r, n, t = _tokens()
    with torch.no_grad():
        out = crm.reconstruct([r, n, t], [0])  # official 'r'
        torch.testing.assert_close(
            out[0], (crm.rebuild(1, 0, n) + crm.rebuild(2, 0, t)) / 2)
        assert out[1] is n and out[2] is t
        out = crm.reconstruct([r, n, t], [0, 1])  # official 'rn'
        torch.testing.assert_close(out[0], crm.rebuild(2, 0, t))
        torch.testing.assert_close(out[1], crm.rebuild(2, 1, t))
        # the missing maps are never read
        again = crm.reconstruct([torch.zeros_like(r), n, t], [0])
        torch.testing.assert_close(
            again[0], (crm.rebuild(1, 0, n) + crm.rebuild(2, 0, t)) / 2)


def test_refuses_nothing_or_everything_missing():
    crm = _crm()
    tokens = _tokens()
    for missing in ([], [0, 1, 2], [3]):
        with pytest.raises(ValueError, match='non-empty proper subset'):
            crm.reconstruct(tokens, missing)
    with pytest.raises(ValueError, match='built for 3 modalities, got 2'):
        crm.loss(tokens[:2])
    with pytest.raises(ValueError, match='num_layers must be an integer >= 1'):
        _crm(num_layers=0)


def test_layers_per_unit_are_chained():
    crm = _crm(num_layers=2)
    sd = crm.state_dict()
    x = _tokens()[1]
    want = _unit(sd, 'units.1_to_0.1.', _unit(sd, 'units.1_to_0.0.', x))
    torch.testing.assert_close(crm.rebuild(1, 0, x), want, rtol=1e-5,
                               atol=1e-5)
