# Copyright (c) mmieee contributors.
"""Tests of the center loss against a per-sample loop."""
import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.losses import CenterLoss
from mmieee.registry import MODELS


def brute_force_center(feats, labels, centers, reduction):
    total = 0.0
    for i in range(len(labels)):
        c = centers[int(labels[i])]
        total += 0.5 * sum((float(x) - float(y))**2
                           for x, y in zip(feats[i], c))
    return total / len(labels) if reduction == 'mean' else total


@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_matches_brute_force(reduction):
    torch.manual_seed(0)
    loss_fn = CenterLoss(num_classes=5, feat_dim=4, reduction=reduction,
                         loss_weight=0.3).double()
    feats = torch.randn(7, 4, dtype=torch.float64)
    labels = torch.tensor([4, 0, 0, 2, 4, 1, 3])  # id 1, 2, 3 once
    loss = loss_fn(feats, labels)
    expect = brute_force_center(feats, labels, loss_fn.centers.detach(),
                                reduction)
    assert loss.item() == pytest.approx(0.3 * expect, rel=1e-10)


def test_zero_at_centres_and_gradients():
    loss_fn = CenterLoss(num_classes=3, feat_dim=2)
    labels = torch.tensor([2, 0, 2])
    feats = loss_fn.centers.detach()[labels].clone().requires_grad_(True)
    loss = loss_fn(feats, labels)
    assert loss.item() == pytest.approx(0.0, abs=1e-12)

    feats = torch.randn(3, 2, requires_grad=True)
    loss = loss_fn(feats, labels)
    loss.backward()
    # d/dx 0.5||x-c||^2 / B = (x - c) / B ; centres get the opposite sum
    centers = loss_fn.centers.detach()
    expect_x = (feats.detach() - centers[labels]) / 3
    assert torch.allclose(feats.grad, expect_x, atol=1e-6)
    expect_c = torch.zeros_like(centers)
    expect_c.index_add_(0, labels, -expect_x)
    assert torch.allclose(loss_fn.centers.grad, expect_c, atol=1e-6)
    assert loss_fn.centers.grad[1].abs().sum() == 0  # class 1 not in batch


def test_centres_are_parameters_and_registry():
    loss_fn = MODELS.build(dict(type='CenterLoss', num_classes=4,
                                feat_dim=6))
    names = dict(loss_fn.named_parameters())
    assert list(names) == ['centers']
    assert names['centers'].shape == (4, 6)
    assert loss_fn.input_level == 'fused'
    assert loss_fn.loss_name == 'loss_center'


def test_errors():
    loss_fn = CenterLoss(num_classes=3, feat_dim=4)
    with pytest.raises(ValueError, match=r'\(B, 4\).*\(2, 5\)'):
        loss_fn(torch.randn(2, 5), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r'labels of shape \(2,\)'):
        loss_fn(torch.randn(2, 4), torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match=r'\[0, 3\).*3'):
        loss_fn(torch.randn(2, 4), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match='reduction'):
        CenterLoss(num_classes=3, feat_dim=4, reduction='none')
    with pytest.raises(ValueError, match='positive'):
        CenterLoss(num_classes=0, feat_dim=4)


def test_usable_from_head_config_with_other_metric_losses():
    """All three losses in IEEEHead.metric_losses; centres are head params."""
    from mmpretrain.structures import DataSample
    head = MODELS.build(
        dict(
            type='IEEEHead',
            num_classes=4,
            num_modalities=3,
            num_parts=2,
            in_channels=5,
            metric_losses=[
                dict(type='TripletLoss', margin=0.3),
                dict(type='CenterLoss', num_classes=4, feat_dim=3 * 2 * 5,
                     loss_weight=5e-4),
                dict(type='HeteroCenterLoss'),
            ]))
    names = [n for n, _ in head.named_parameters() if 'centers' in n]
    assert names == ['metric_losses.1.centers']
    torch.manual_seed(0)
    feats = torch.randn(6, 3, 2, 5, requires_grad=True)
    labels = [0, 0, 2, 2, 3, 3]
    samples = [DataSample().set_gt_label(label) for label in labels]
    losses = head.loss(feats, samples)
    assert {'loss_ce', 'loss_triplet', 'loss_center', 'loss_hc'} <= set(
        losses)
    expect_hc = MODELS.build(dict(type='HeteroCenterLoss'))(
        feats.flatten(2), torch.tensor(labels))
    assert losses['loss_hc'].item() == pytest.approx(expect_hc.item())
    sum(v for k, v in losses.items() if k.startswith('loss_')).backward()
    centers = head.metric_losses[1].centers
    assert centers.grad is not None
    assert centers.grad[[0, 2, 3]].abs().sum(dim=1).gt(0).all()
