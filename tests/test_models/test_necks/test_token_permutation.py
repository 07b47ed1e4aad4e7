# Copyright (c) mmieee contributors.
"""TokenPermutation (TOP-ReID's TPM) against a hand computation: explicit
multi-head attention of each class token over another modality's patches
(keys from a LayerNorm'd copy, values raw), in the official cycle."""
import pytest
import torch
import torch.nn.functional as F

import mmieee  # noqa: F401
from mmieee.registry import MODELS

C, HEADS, N = 8, 2, 5


def _tpm(num_modalities=3):
    torch.manual_seed(0)
    tpm = MODELS.build(dict(type='TokenPermutation',
                            num_modalities=num_modalities, embed_dims=C,
                            num_heads=HEADS, feedforward_channels=16))
    tpm.init_weights()
    with torch.no_grad():  # non-trivial norms and biases
        for name, p in tpm.named_parameters():
            if 'ln' in name or name.endswith('bias'):
                p.add_(0.2 * torch.randn_like(p))
    return tpm


def _block(sd, prefix, cls, patches):
    """One official RotationAttention step, written out."""
    def ln(x, name):
        return F.layer_norm(x, (C, ), sd[f'{prefix}{name}.weight'],
                            sd[f'{prefix}{name}.bias'], 1e-5)

    b = cls.shape[0]
    d = C // HEADS
    q = (ln(cls, 'ln1') @ sd[prefix + 'attn.q.weight'].t()).reshape(
        b, HEADS, 1, d)
    k = (ln(patches, 'attn.ln_kv') @ sd[prefix + 'attn.k.weight'].t())
    v = patches @ sd[prefix + 'attn.v.weight'].t()
    k = k.reshape(b, N, HEADS, d).transpose(1, 2)
    v = v.reshape(b, N, HEADS, d).transpose(1, 2)
    att = (q @ k.transpose(-2, -1) * d**-0.5).softmax(-1)
    out = (att @ v).reshape(b, C)
    cls = cls + out @ sd[prefix + 'attn.proj.weight'].t() + \
        sd[prefix + 'attn.proj.bias']
    h = F.gelu(ln(cls, 'ln2') @ sd[prefix + 'ffn.layers.0.0.weight'].t() +
               sd[prefix + 'ffn.layers.0.0.bias'])
    return cls + h @ sd[prefix + 'ffn.layers.1.weight'].t() + \
        sd[prefix + 'ffn.layers.1.bias']


def test_equals_the_official_cycle_written_out():
    """R <- N, N <- T, T <- R; then R <- T, T <- N, N <- R; then each its
    own patches; concatenated R, N, T."""
    tpm = _tpm()
    sd = tpm.state_dict()
    r, n, t = (torch.randn(2, 1 + N, C) for _ in range(3))
    out = tpm([r, n, t])

    def step(i, cls, patches):
        return _block(sd, f'blocks.{i}.', cls, patches)

    rc, nc, tc = r[:, 0], n[:, 0], t[:, 0]
    rp, np_, tp = r[:, 1:], n[:, 1:], t[:, 1:]
    rc, nc, tc = step(0, rc, np_), step(0, nc, tp), step(0, tc, rp)
    rc, tc, nc = step(1, rc, tp), step(1, tc, np_), step(1, nc, rp)
    want = torch.cat([step(2, rc, rp), step(2, nc, np_), step(2, tc, tp)], 1)
    assert out.shape == (2, 3 * C)
    torch.testing.assert_close(out, want, rtol=1e-5, atol=1e-5)


def test_two_modalities_read_each_other_then_themselves():
    tpm = _tpm(num_modalities=2)
    sd = tpm.state_dict()
    a, b = torch.randn(3, 1 + N, C), torch.randn(3, 1 + N, C)
    ac, bc = a[:, 0], b[:, 0]
    for i in (0, 1):  # offsets +1 and -1 both name the other modality
        ac, bc = (_block(sd, f'blocks.{i}.', ac, b[:, 1:]),
                  _block(sd, f'blocks.{i}.', bc, a[:, 1:]))
    want = torch.cat([_block(sd, 'blocks.2.', ac, a[:, 1:]),
                      _block(sd, 'blocks.2.', bc, b[:, 1:])], 1)
    torch.testing.assert_close(tpm([a, b]), want, rtol=1e-5, atol=1e-5)


def test_default_initialisation_is_pytorch_s():
    """No init_cfg: every Linear gets nn.Linear's default init (as the
    official module, whose _init_weights is never applied)."""
    tpm = _tpm()
    torch.manual_seed(1)
    tpm.init_weights()
    w = tpm.blocks[0].attn.q.weight
    bound = 1 / C**0.5  # kaiming_uniform(a=sqrt(5)) bound
    assert w.abs().max() <= bound and w.std() > bound / 3
    assert torch.equal(tpm.blocks[0].ln1.weight, torch.ones(C))


def test_bad_inputs_are_named():
    tpm = _tpm()
    with pytest.raises(ValueError, match='built for 3 modalities, got 2'):
        tpm([torch.randn(1, 1 + N, C)] * 2)
    with pytest.raises(ValueError, match=r'token map 1 has shape \(1, 6, 4\)'):
        tpm([torch.randn(1, 1 + N, C), torch.randn(1, 1 + N, 4),
             torch.randn(1, 1 + N, C)])
    with pytest.raises(ValueError, match='num_modalities must be an int'):
        MODELS.build(dict(type='TokenPermutation', num_modalities=1))
