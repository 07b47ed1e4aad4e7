# Copyright (c) mmieee contributors.
"""Tests of the hetero-center loss against a per-identity loop."""
import itertools
import math

import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.losses import HeteroCenterLoss
from mmieee.registry import MODELS


def brute_force_hc(feats, labels, margin, distance, reduction,
                   normalize=False):
    """Loop over identities and modality pairs with python lists."""
    B, M, D = feats.shape
    if normalize:
        feats = feats / feats.norm(dim=2, keepdim=True)
    per_id = []
    for u in sorted(set(labels.tolist())):
        rows = [i for i in range(B) if labels[i] == u]
        centres = [[sum(float(feats[i, m, d]) for i in rows) / len(rows)
                    for d in range(D)] for m in range(M)]
        total = 0.0
        for m, n in itertools.combinations(range(M), 2):
            sq = sum((a - b)**2 for a, b in zip(centres[m], centres[n]))
            dist = sq if distance == 'squared_l2' else math.sqrt(sq)
            total += max(0.0, dist - margin)
        per_id.append(total)
    return sum(per_id) if reduction == 'sum' else sum(per_id) / len(per_id)


@pytest.mark.parametrize('num_modalities', [2, 3])
@pytest.mark.parametrize('distance', ['squared_l2', 'l2'])
@pytest.mark.parametrize('reduction', ['sum', 'mean'])
def test_matches_brute_force(num_modalities, distance, reduction):
    torch.manual_seed(0)
    feats = torch.randn(7, num_modalities, 5, dtype=torch.float64)
    labels = torch.tensor([9, 2, 9, 4, 2, 9, 2])  # id 4 appears once
    for margin in (0.0, 3.0):
        loss = HeteroCenterLoss(margin=margin, distance=distance,
                                reduction=reduction, loss_weight=0.7)
        expect = brute_force_hc(feats, labels, margin, distance, reduction)
        assert loss(feats, labels).item() == pytest.approx(
            0.7 * expect, rel=1e-10)


def test_normalize_and_label_grouping():
    torch.manual_seed(1)
    feats = torch.randn(6, 3, 4, dtype=torch.float64)
    labels = torch.tensor([1, 0, 1, 0, 5, 5])
    loss_fn = HeteroCenterLoss(normalize=True)
    expect = brute_force_hc(feats, labels, 0.0, 'squared_l2', 'sum', True)
    assert loss_fn(feats, labels).item() == pytest.approx(expect, rel=1e-10)
    perm = torch.randperm(6)
    assert loss_fn(feats[perm], labels[perm]).item() == pytest.approx(
        expect, rel=1e-10)


def test_zero_when_modalities_agree_and_gradients():
    base = torch.randn(4, 1, 3)
    feats = base.repeat(1, 3, 1).requires_grad_(True)
    labels = torch.tensor([0, 0, 1, 1])
    loss = HeteroCenterLoss(distance='l2')(feats, labels)
    assert loss.item() == pytest.approx(0.0, abs=1e-5)
    loss.backward()
    assert torch.isfinite(feats.grad).all()

    feats = torch.randn(4, 3, 3, requires_grad=True)
    HeteroCenterLoss()(feats, labels).backward()
    assert torch.isfinite(feats.grad).all()
    assert (feats.grad.abs().sum(dim=(1, 2)) > 0).all()


def test_interface_and_registry():
    loss_fn = MODELS.build(dict(type='HeteroCenterLoss', margin=0.1))
    assert isinstance(loss_fn, HeteroCenterLoss)
    assert loss_fn.input_level == 'modality'
    assert loss_fn.loss_name == 'loss_hc'
    assert not list(loss_fn.parameters())


def test_errors():
    with pytest.raises(ValueError, match='distance'):
        HeteroCenterLoss(distance='cosine')
    with pytest.raises(ValueError, match='reduction'):
        HeteroCenterLoss(reduction='max')
