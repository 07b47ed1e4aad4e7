# Copyright (c) mmieee contributors.
"""CIM (paper Eq. 1-2) against hand computations."""
import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.necks import CrossModalInteraction

C = 8


def _randomise(module):
    """Non-trivial weights and BN statistics, eval mode."""
    gen = torch.Generator().manual_seed(0)
    for name, tensor in module.state_dict().items():
        if name.endswith('num_batches_tracked'):
            continue
        if name.endswith('running_var'):
            tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
        else:
            tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.5)
    return module.eval().double()


def _conv_bn_relu(block, x):
    """Hand 1x1 conv + eval BN + ReLU from the block's tensors."""
    w = block.conv.weight[:, :, 0, 0]
    y = torch.einsum('oc,bchw->bohw', w, x)
    bn = block.bn
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    y = (y - bn.running_mean[:, None, None]) * scale[:, None, None] \
        + bn.bias[:, None, None]
    return y.clamp_min(0)


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


@pytest.mark.parametrize('num_modalities', [2, 3, 4])
@pytest.mark.parametrize('use_ca', [True, False])
def test_cim_matches_eq_1_2(num_modalities, use_ca):
    cim = _randomise(
        CrossModalInteraction(
            num_modalities=num_modalities,
            in_channels=C,
            use_channel_attention=use_ca,
            ca_ratio=4))
    assert hasattr(cim, 'channel_attentions') == use_ca
    feats = [
        torch.randn(2, C, 4, 2, dtype=torch.double)
        for _ in range(num_modalities)
    ]
    outs = cim(feats)
    assert len(outs) == num_modalities
    for m in range(num_modalities):
        a = _conv_bn_relu(cim.own_convs[m], feats[m])
        rest = sum(f for n, f in enumerate(feats) if n != m)
        s = _conv_bn_relu(cim.other_convs[m], rest)
        if use_ca:
            b = _channel_attention(cim.channel_attentions[m], s) * s + s
        else:
            b = s
        torch.testing.assert_close(outs[m], a + b)


def test_cim_literal_values_without_ca():
    """1x1 convs = identity, BN = identity: out_m = relu(f_m) + relu(sum)."""
    cim = CrossModalInteraction(
        num_modalities=3, in_channels=2, use_channel_attention=False).eval()
    for block in list(cim.own_convs) + list(cim.other_convs):
        block.conv.weight.data = torch.eye(2)[:, :, None, None]
        block.bn.eps = 0.0
    f = [torch.tensor([1., -2.]).view(1, 2, 1, 1) * (m + 1) for m in range(3)]
    outs = cim(f)
    # m = 0: relu([1,-2]) + relu([2,-4] + [3,-6]) = [1,0] + [5,0]
    torch.testing.assert_close(outs[0].flatten(), torch.tensor([6., 0.]))
    # m = 2: relu([3,-6]) + relu([1,-2] + [2,-4]) = [3,0] + [3,0]
    torch.testing.assert_close(outs[2].flatten(), torch.tensor([6., 0.]))


def test_cim_errors():
    with pytest.raises(ValueError, match='num_modalities >= 2'):
        CrossModalInteraction(num_modalities=1, in_channels=C)


def test_cim_submodule_names():
    cim = CrossModalInteraction(num_modalities=3, in_channels=C, ca_ratio=4)
    keys = set(cim.state_dict())
    for m in range(3):
        for prefix in (f'own_convs.{m}', f'other_convs.{m}'):
            assert f'{prefix}.conv.weight' in keys
            assert f'{prefix}.bn.running_var' in keys
            assert f'{prefix}.conv.bias' not in keys
        assert f'channel_attentions.{m}.reduce.conv.weight' in keys
        assert f'channel_attentions.{m}.expand.conv.weight' in keys
