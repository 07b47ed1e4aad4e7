# Copyright (c) mmieee contributors.
"""IEEENeck: part pooling, global source, switches, names."""
import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.necks import IEEENeck

CIN, CR, COUT, P = 8, 6, 4, 3


def _neck(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        num_modalities=3,
        in_channels=CIN,
        reduce_channels=CR,
        out_channels=COUT,
        num_parts=P,
        cim=dict(type='CrossModalInteraction', ca_ratio=4))
    cfg.update(kwargs)
    neck = IEEENeck(**cfg)
    # Non-trivial BN statistics and a non-zero gamma, eval mode.
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, t in neck.state_dict().items():
            if name.endswith('running_var'):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            elif name.endswith('running_mean') or name.endswith('gamma'):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.3)
    return neck.eval()


def _feats(num_modalities=3, h=6, w=2):
    torch.manual_seed(2)
    return [torch.randn(2, CIN, h, w) for _ in range(num_modalities)]


def _stripes(x):
    """(B, C, 6, w) -> (B, C, P, 1) by hand: rows 2p, 2p+1 averaged."""
    return torch.stack(
        [x[:, :, 2 * p:2 * p + 2].mean(dim=(2, 3)) for p in range(P)],
        dim=2)[..., None]


def _expected(neck, feats, inter, global_maps):
    outs = []
    for m in range(len(feats)):
        reduce = neck.reduce_layers[m]
        parts = reduce(_stripes(inter[m]))[..., 0].transpose(1, 2)
        if neck.rems is not None:
            g = reduce(global_maps[m].mean(dim=(2, 3), keepdim=True))
            parts = neck.rems[m](parts, g.flatten(1))
        outs.append(
            torch.stack([neck.part_fcs[m][p](parts[:, p]) for p in range(P)],
                        dim=1))
    return torch.stack(outs, dim=1)


@pytest.mark.parametrize('global_source', ['backbone', 'cim'])
@pytest.mark.parametrize('variant', ['official', 'paper'])
def test_full_neck_matches_composition(global_source, variant):
    neck = _neck(
        rem=dict(type='RelationEmbedding', variant=variant),
        global_source=global_source)
    feats = _feats()
    with torch.no_grad():
        out = neck(feats)
        inter = neck.cim(feats)
        global_maps = feats if global_source == 'backbone' else inter
        expected = _expected(neck, feats, inter, global_maps)
    assert out.shape == (2, 3, P, COUT)
    torch.testing.assert_close(out, expected)


def test_global_source_changes_the_output():
    feats = _feats()
    with torch.no_grad():
        a = _neck(global_source='backbone')(feats)
        b = _neck(global_source='cim')(feats)
    assert not torch.allclose(a, b)


def test_cim_and_rem_off_is_plain_part_pooling():
    neck = _neck(cim=None, rem=None)
    assert neck.cim is None and neck.rems is None
    feats = _feats(num_modalities=2)
    neck2 = _neck(cim=None, rem=None, num_modalities=2)
    with torch.no_grad():
        out = neck2(feats)
        expected = _expected(neck2, feats, feats, None)
    assert out.shape == (2, 2, P, COUT)
    torch.testing.assert_close(out, expected)


def test_submodule_names_for_the_converter():
    keys = set(_neck().state_dict())
    for m in range(3):
        assert f'cim.own_convs.{m}.conv.weight' in keys
        assert f'cim.channel_attentions.{m}.reduce.conv.weight' in keys
        assert f'reduce_layers.{m}.conv.weight' in keys
        assert f'reduce_layers.{m}.bn.num_batches_tracked' in keys
        assert f'rems.{m}.gamma' in keys
        assert f'rems.{m}.global_proj.bias' in keys
        for p in range(P):
            assert f'part_fcs.{m}.{p}.0.weight' in keys
            assert f'part_fcs.{m}.{p}.1.running_mean' in keys
    assert 'reduce_layers.0.conv.bias' not in keys


def test_config_errors():
    with pytest.raises(ValueError, match='global_source'):
        _neck(global_source='fused')
    with pytest.raises(ValueError, match=r'cim.num_modalities=2'):
        _neck(cim=dict(type='CrossModalInteraction', num_modalities=2))
