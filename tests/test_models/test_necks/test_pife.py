# Copyright (c) mmieee contributors.
"""PIFE against a hand computation of the official reduce:
QuickGELU(Linear(LayerNorm([cls ; mean of the patch tokens])))."""
import pytest
import torch
import torch.nn.functional as F

from mmieee.models.necks import PIFE


def _perturbed(module):
    torch.manual_seed(0)
    with torch.no_grad():  # non-trivial LayerNorm affine parameters
        for name, p in module.named_parameters():
            if name.endswith('.0.weight') or name.endswith('.0.bias'):
                p.add_(0.1 * torch.randn_like(p))
    return module


def test_global_feature_is_the_reduced_cls_and_patch_mean():
    pife = _perturbed(PIFE(embed_dims=8, num_modalities=3))
    tokens = [torch.randn(2, 1 + 5, 8) for _ in range(3)]
    out = pife(tokens)
    assert len(out) == 3
    for m, (t, g) in enumerate(zip(tokens, out)):
        ln, fc = pife.reduces[m][0], pife.reduces[m][1]
        x = torch.cat([t[:, 0], t[:, 1:].sum(1) / 5], dim=1)  # cls first
        x = F.layer_norm(x, (16, ), ln.weight, ln.bias, eps=1e-5)
        x = x @ fc.weight.t() + fc.bias
        want = x * torch.sigmoid(1.702 * x)
        assert g.shape == (2, 8)
        torch.testing.assert_close(g, want, rtol=1e-5, atol=1e-6)


def test_each_modality_has_its_own_reduce():
    pife = PIFE(embed_dims=8, num_modalities=2)
    t = torch.randn(2, 4, 8)
    a, b = pife([t, t])
    assert not torch.allclose(a, b)
    assert pife.reduces[0][1].weight is not pife.reduces[1][1].weight


def test_wrong_inputs_are_named():
    pife = PIFE(embed_dims=8, num_modalities=3)
    with pytest.raises(ValueError, match='built for 3 modalities, got 2'):
        pife([torch.randn(1, 4, 8)] * 2)
    with pytest.raises(ValueError, match=r'embed_dims = 8, got \(1, 4, 6\)'):
        pife([torch.randn(1, 4, 6)] * 3)
    with pytest.raises(ValueError, match='embed_dims must be an integer >= 1'):
        PIFE(embed_dims=0)
