# Copyright (c) mmieee contributors.
"""3M loss (paper Eq. 6) against a direct loop-based computation."""
import itertools
import math

import pytest
import torch

import mmieee  # noqa: F401
from mmieee.models.losses import MultiModalMarginLoss
from mmieee.registry import MODELS


def _reference(feats, labels, margin, distance, reduction, normalize):
    """Direct computation: loop over identities, samples and pairs."""
    feats = feats.double()
    per_id = []
    for pid in sorted(set(labels.tolist())):
        idx = [i for i, y in enumerate(labels.tolist()) if y == pid]
        centres = []
        for m in range(feats.size(1)):
            vecs = []
            for i in idx:
                v = feats[i, m]
                if normalize:
                    v = v / math.sqrt(float((v * v).sum()))
                vecs.append(v)
            centres.append(sum(vecs) / len(vecs))
        worst = 0.0
        for j, k in itertools.combinations(range(len(centres)), 2):
            d = float(((centres[j] - centres[k])**2).sum())
            if distance == 'l2':
                d = math.sqrt(d)
            worst = max(worst, abs(margin - d))
        per_id.append(worst)
    total = sum(per_id)
    return total if reduction == 'sum' else total / len(per_id)


BATCHES = {
    # P = 2 ids x K = 4, grouped.
    '2x4': torch.tensor([3, 3, 3, 3, 7, 7, 7, 7]),
    # P = 3 ids x K = 2, interleaved (grouping must be by value).
    '3x2': torch.tensor([5, 0, 9, 0, 9, 5]),
    # An id seen once and ids in arbitrary order.
    'singleton': torch.tensor([4, 1, 4, 2, 1]),
}


@pytest.mark.parametrize('batch', list(BATCHES))
@pytest.mark.parametrize('num_modalities', [2, 3])
@pytest.mark.parametrize('distance', ['l2', 'squared_l2'])
@pytest.mark.parametrize('reduction', ['sum', 'mean'])
def test_matches_direct_computation(batch, num_modalities, distance,
                                    reduction):
    labels = BATCHES[batch]
    torch.manual_seed(len(labels) * num_modalities)
    feats = torch.randn(len(labels), num_modalities, 12)
    loss = MultiModalMarginLoss(
        margin=1.0, distance=distance, reduction=reduction)
    expected = _reference(feats, labels, 1.0, distance, reduction, True)
    assert loss(feats, labels).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize('normalize', [True, False])
def test_margin_weight_and_normalize(normalize):
    labels = BATCHES['3x2']
    feats = torch.randn(6, 3, 5) * 3
    loss = MultiModalMarginLoss(
        margin=2.5, loss_weight=0.5, normalize=normalize, distance='l2')
    expected = 0.5 * _reference(feats, labels, 2.5, 'l2', 'sum', normalize)
    assert loss(feats, labels).item() == pytest.approx(expected, rel=1e-5)


def test_literal_values():
    # One id, two samples; normalised centres RGB = (1, 0), TI = (0, 1).
    feats = torch.tensor([[[2., 0.], [0., 3.]], [[5., 0.], [0., 1.]]])
    labels = torch.tensor([0, 0])
    squared = MultiModalMarginLoss(distance='squared_l2')(feats, labels)
    assert squared.item() == pytest.approx(abs(1 - 2.0))
    l2 = MultiModalMarginLoss(distance='l2')(feats, labels)
    assert l2.item() == pytest.approx(abs(1 - math.sqrt(2.0)))


def test_invariant_to_batch_order():
    labels = BATCHES['2x4']
    feats = torch.randn(8, 3, 6)
    perm = torch.randperm(8)
    loss = MultiModalMarginLoss()
    torch.testing.assert_close(loss(feats, labels), loss(feats[perm],
                                                         labels[perm]))


def test_l2_gradient_is_finite_when_centres_coincide():
    feats = torch.ones(4, 3, 6, requires_grad=True)
    loss = MultiModalMarginLoss(distance='l2')(feats, torch.tensor([0, 0, 1,
                                                                    1]))
    loss.backward()
    assert torch.isfinite(feats.grad).all()
    assert loss.item() == pytest.approx(2.0, abs=1e-5)  # |1 - 0| per id


def test_interface_and_errors():
    loss = MODELS.build(dict(type='MultiModalMarginLoss'))
    assert loss.input_level == 'modality' and loss.loss_name == 'loss_3m'
    assert MultiModalMarginLoss(loss_name='loss_3m_b').loss_name == \
        'loss_3m_b'
    with pytest.raises(ValueError, match='distance'):
        MultiModalMarginLoss(distance='cos')
    with pytest.raises(ValueError, match='reduction'):
        MultiModalMarginLoss(reduction='max')
    with pytest.raises(ValueError, match='loss_'):
        MultiModalMarginLoss(loss_name='margin')
