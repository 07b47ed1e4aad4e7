# Copyright (c) mmieee contributors.
"""TOPReIDNeck: the named features of the head, the CRM loss in training
only, missing modalities through CRM, the sizes it fills in."""
import pytest
import torch

import mmieee  # noqa: F401
from mmieee.registry import MODELS

C = 8


def _neck(**kwargs):
    cfg = dict(type='TOPReIDNeck', in_channels=C,
               tpm=dict(type='TokenPermutation', num_heads=2,
                        feedforward_channels=16),
               crm=dict(type='ComplementaryReconstruction', num_heads=2,
                        feedforward_channels=16))
    cfg.update(kwargs)
    torch.manual_seed(0)
    neck = MODELS.build(cfg)
    neck.init_weights()
    return neck


def test_features_and_the_crm_loss():
    neck = _neck()
    tokens = [torch.randn(2, 5, C) for _ in range(3)]
    out = neck(tokens)
    assert set(out) == {'tpm', 'cls', 'cls_0', 'cls_1', 'cls_2', 'loss_crm'}
    torch.testing.assert_close(out['tpm'], neck.tpm(tokens))
    torch.testing.assert_close(out['loss_crm'], neck.crm.loss(tokens))
    torch.testing.assert_close(
        out['cls'], torch.cat([t[:, 0] for t in tokens], 1))
    torch.testing.assert_close(out['cls_2'], tokens[2][:, 0])
    neck.eval()
    assert 'loss_crm' not in neck(tokens)


def test_missing_modalities_replace_tokens_before_tpm():
    neck = _neck().eval()
    assert neck.reconstructs_missing
    tokens = [torch.randn(2, 5, C) for _ in range(3)]
    with torch.no_grad():
        out = neck(tokens, missing=[2])
        rebuilt = neck.crm.reconstruct(tokens, [2])
        torch.testing.assert_close(out['tpm'], neck.tpm(rebuilt))
        torch.testing.assert_close(out['cls_2'], rebuilt[2][:, 0])
        assert not torch.allclose(out['tpm'], neck(tokens)['tpm'])


def test_without_crm_there_is_no_reconstruction():
    neck = _neck(crm=None)
    assert not neck.reconstructs_missing
    tokens = [torch.randn(2, 5, C) for _ in range(3)]
    assert 'loss_crm' not in neck(tokens)
    with pytest.raises(ValueError, match='no CRM'):
        neck(tokens, missing=[0])


def test_sizes_are_filled_in_and_contradictions_named():
    neck = _neck(num_modalities=2)
    assert neck.tpm.num_modalities == neck.crm.num_modalities == 2
    assert neck.tpm.embed_dims == C
    with pytest.raises(ValueError, match='tpm.embed_dims=16 but the neck'):
        _neck(tpm=dict(type='TokenPermutation', embed_dims=16, num_heads=2))
    with pytest.raises(ValueError, match='built for 3 modalities, got 2'):
        _neck()([torch.randn(1, 5, C)] * 2)
