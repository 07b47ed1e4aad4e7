# Copyright (c) mmieee contributors.
"""DeMoNeck wiring: PIFE globals -> [global ; patch tokens] -> HDM ->
ATMoE, the named features the heads use, and the ablation switches."""
import pytest
import torch

from mmieee.models.necks import DeMoNeck


def _neck(**kwargs):
    cfg = dict(
        in_channels=16,
        hdm=dict(type='HDM', num_heads=2, dropout=0.0),
        atmoe=dict(type='ATMoE', num_heads=2))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return DeMoNeck(**cfg).eval()


def test_features_are_wired_as_the_official_forward():
    neck = _neck()
    tokens = [torch.randn(2, 1 + 6, 16) for _ in range(3)]
    out = neck(tokens)
    globals_ = neck.pife(tokens)
    torch.testing.assert_close(out['ori'], torch.cat(globals_, 1))
    for m in range(3):
        torch.testing.assert_close(out[f'global_{m}'], globals_[m])
    # HDM sees the PIFE global in front of the raw patch tokens
    decoupled = neck.hdm([
        torch.cat([g[:, None], t[:, 1:]], 1)
        for g, t in zip(globals_, tokens)
    ])
    torch.testing.assert_close(out['moe'], neck.atmoe(decoupled)[0])
    assert neck.feature_dims == dict(
        ori=48, global_0=16, global_1=16, global_2=16, moe=7 * 16)
    assert {k: v.shape[1] for k, v in out.items()} == neck.feature_dims
    assert 'loss_moe' not in out


def test_training_adds_the_zero_moe_regularisation_term():
    neck = _neck().train()
    out = neck([torch.randn(4, 5, 16) for _ in range(3)])
    assert out['loss_moe'].shape == () and float(out['loss_moe']) == 0.0


def test_ablations_and_two_modalities():
    tokens = [torch.randn(2, 5, 16) for _ in range(3)]
    neck = _neck(pife=None)  # class tokens as the globals
    out = neck(tokens)
    torch.testing.assert_close(out['ori'],
                               torch.cat([t[:, 0] for t in tokens], 1))
    neck = _neck(atmoe=None)  # HDM features concatenated
    out = neck(tokens)
    decoupled = neck.hdm([
        torch.cat([g[:, None], t[:, 1:]], 1)
        for g, t in zip(neck.pife(tokens), tokens)
    ])
    torch.testing.assert_close(out['moe'], decoupled.flatten(1))
    out = _neck(hdm=None, atmoe=None)(tokens)
    assert 'moe' not in out
    with pytest.raises(ValueError, match='atmoe needs hdm'):
        _neck(hdm=None)
    neck = _neck(num_modalities=2)  # R, N, RN: three experts
    out = neck(tokens[:2])
    assert out['moe'].shape == (2, 3 * 16) and out['ori'].shape == (2, 32)
    with pytest.raises(ValueError, match='atmoe.num_experts=7 contradicts'):
        _neck(num_modalities=2,
              atmoe=dict(type='ATMoE', num_heads=2, num_experts=7))
