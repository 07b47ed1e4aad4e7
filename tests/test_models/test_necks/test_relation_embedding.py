# Copyright (c) mmieee contributors.
"""REM (paper Eq. 3-4): both variants, both similarities."""
import math

import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.necks import RelationEmbedding

C, P, B = 8, 3, 2


def _lin(layer, v):
    return layer.weight @ v + layer.bias


def _randomised(**kwargs):
    torch.manual_seed(0)
    rem = RelationEmbedding(channels=C, **kwargs).double()
    with torch.no_grad():
        for p in rem.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    return rem


def test_official_variant_parameters_and_init():
    rem = RelationEmbedding(channels=C, variant='official')
    names = dict(rem.named_parameters())
    assert set(names) == {'gamma', 'global_proj.weight', 'global_proj.bias'}
    assert rem.gamma.shape == (1, ) and rem.gamma.item() == 0.0
    parts, g = torch.randn(B, P, C), torch.randn(B, C)
    # gamma = 0: the module starts as the identity on the parts.
    torch.testing.assert_close(rem(parts, g), parts)


def test_official_variant_matches_formula():
    rem = _randomised(variant='official')
    parts = torch.randn(B, P, C, dtype=torch.double)
    g = torch.randn(B, C, dtype=torch.double)
    out = rem(parts, g)
    for b in range(B):
        for i in range(P):
            expected = parts[b, i] + rem.gamma * 2 * _lin(
                rem.global_proj, g[b])
            torch.testing.assert_close(out[b, i], expected)


@pytest.mark.parametrize('similarity', ['dot', 'hadamard'])
def test_paper_variant_matches_loop_reference(similarity):
    rem = _randomised(variant='paper', similarity=similarity)
    assert set(n.split('.')[0] for n, _ in rem.named_parameters()) == {
        'part_proj', 'global_key', 'global_value'
    }
    parts = torch.randn(B, P, C, dtype=torch.double)
    g = torch.randn(B, C, dtype=torch.double)
    out = rem(parts, g).detach()
    rem.requires_grad_(False)
    for b in range(B):
        key = _lin(rem.global_key, g[b])
        value = _lin(rem.global_value, g[b])
        queries = [_lin(rem.part_proj, parts[b, i]) for i in range(P)]
        if similarity == 'dot':
            scores = [float(q @ key) for q in queries]
            denom = sum(math.exp(s) for s in scores)
            weights = [math.exp(s) / denom for s in scores]
        for i in range(P):
            if similarity == 'dot':
                v_sim = weights[i]
            else:
                e = torch.exp(queries[i] * key)
                v_sim = e / e.sum()
            expected = parts[b, i] + (g[b] + v_sim * value)
            torch.testing.assert_close(out[b, i], expected)


def _identity_paper_rem(similarity):
    rem = RelationEmbedding(channels=2, variant='paper', similarity=similarity)
    with torch.no_grad():
        for layer in (rem.part_proj, rem.global_key, rem.global_value):
            layer.weight.copy_(torch.eye(2))
            layer.bias.zero_()
    return rem


def test_paper_dot_literal_values():
    """W1 = W2 = W3 = I: scores <p_i, g> = 1 for both parts -> 1/2 each."""
    rem = _identity_paper_rem('dot')
    parts = torch.tensor([[[1., 0.], [0., 1.]]])
    g = torch.tensor([[1., 1.]])
    out = rem(parts, g)
    # p_i + g + 0.5 * g
    expected = torch.tensor([[[2.5, 1.5], [1.5, 2.5]]])
    torch.testing.assert_close(out, expected)


def test_paper_hadamard_literal_values():
    rem = _identity_paper_rem('hadamard')
    parts = torch.tensor([[[1., 0.]]])
    g = torch.tensor([[1., 1.]])
    out = rem(parts, g)
    e = math.e
    # V_sim = softmax([1, 0]) over channels; f_sim = g + V_sim * g.
    expected = torch.tensor([[[1 + 1 + e / (e + 1), 0 + 1 + 1 / (e + 1)]]])
    torch.testing.assert_close(out, expected)


def test_bad_arguments():
    with pytest.raises(ValueError, match='variant'):
        RelationEmbedding(variant='nonlocal')
    with pytest.raises(ValueError, match='similarity'):
        RelationEmbedding(variant='paper', similarity='cosine')
