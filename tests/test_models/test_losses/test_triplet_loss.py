# Copyright (c) mmieee contributors.
"""Tests of the batch-hard triplet loss against a brute-force loop."""
import math

import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.losses import TripletLoss
from mmieee.registry import MODELS


def brute_force_triplet(feats, labels, margin, normalize=False):
    """Loop over anchors, positives and negatives one pair at a time."""
    if normalize:
        feats = feats / feats.norm(dim=1, keepdim=True)
    n = len(labels)
    terms = []
    for a in range(n):
        pos = [math.dist(feats[a].tolist(), feats[p].tolist())
               for p in range(n) if p != a and labels[p] == labels[a]]
        neg = [math.dist(feats[a].tolist(), feats[q].tolist())
               for q in range(n) if labels[q] != labels[a]]
        if not pos or not neg:
            continue
        diff = max(pos) - min(neg)
        if margin is None:
            terms.append(math.log1p(math.exp(diff)))
        else:
            terms.append(max(0.0, diff + margin))
    return sum(terms) / len(terms) if terms else 0.0


@pytest.mark.parametrize('margin', [0.3, 5.0, None])
@pytest.mark.parametrize('normalize', [False, True])
def test_matches_brute_force(margin, normalize):
    torch.manual_seed(0)
    feats = torch.randn(8, 5, dtype=torch.float64)
    labels = torch.tensor([3, 3, 7, 7, 3, 1, 1, 7])  # unordered, uneven
    loss = TripletLoss(margin=margin, normalize=normalize)(feats, labels)
    expect = brute_force_triplet(feats, labels, margin, normalize)
    assert loss.item() == pytest.approx(expect, rel=1e-9, abs=1e-9)
    assert loss.item() > 0


def test_singletons_are_skipped_and_weight_applied():
    torch.manual_seed(1)
    feats = torch.randn(5, 4, dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 2, 0])  # ids 1 and 2 appear once
    loss = TripletLoss(margin=1.0, loss_weight=2.5)(feats, labels)
    expect = brute_force_triplet(feats, labels, 1.0)
    assert loss.item() == pytest.approx(2.5 * expect, rel=1e-9)
    # grouping is by label value: permuting the batch changes nothing
    perm = torch.tensor([4, 2, 0, 3, 1])
    loss_p = TripletLoss(margin=1.0, loss_weight=2.5)(feats[perm],
                                                      labels[perm])
    assert loss_p.item() == pytest.approx(loss.item(), rel=1e-12)


def test_no_valid_anchor_gives_zero_with_graph():
    feats = torch.randn(3, 4, requires_grad=True)
    loss = TripletLoss()(feats, torch.tensor([0, 1, 2]))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(feats.grad, torch.zeros_like(feats))
    loss = TripletLoss()(torch.randn(3, 4), torch.tensor([5, 5, 5]))
    assert loss.item() == 0.0


def test_gradient_flows_and_is_finite():
    torch.manual_seed(2)
    feats = torch.randn(6, 3, requires_grad=True)
    # two identical rows: zero distance must not produce NaN gradients
    with torch.no_grad():
        feats[1] = feats[0]
    loss = TripletLoss(margin=10.0)(feats, torch.tensor([0, 0, 0, 1, 1, 1]))
    loss.backward()
    assert torch.isfinite(feats.grad).all()
    assert feats.grad.abs().sum() > 0


def test_interface_and_registry():
    loss = MODELS.build(dict(type='TripletLoss', margin=0.5))
    assert isinstance(loss, TripletLoss)
    assert loss.input_level == 'fused'
    assert loss.loss_name == 'loss_triplet'
    assert TripletLoss(loss_name='loss_tri2').loss_name == 'loss_tri2'


def test_errors():
    loss = TripletLoss()
    with pytest.raises(ValueError, match=r'\(B, D\).*\(2, 3, 4\)'):
        loss(torch.randn(2, 3, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'labels of shape \(2,\)'):
        loss(torch.randn(2, 4), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match='margin'):
        TripletLoss(margin=-1.0)
    with pytest.raises(ValueError, match='loss_name'):
        TripletLoss(loss_name='triplet')
