# Copyright (c) mmieee contributors.
import itertools

import pytest
import torch

from mmieee.models.losses import (BaseMetricLoss, modality_centers,
                                  modality_pair_distances)


def test_modality_centers_group_by_label_value_not_position():
    feats = torch.arange(2 * 6 * 3, dtype=torch.float64).reshape(6, 2, 3)
    labels = torch.tensor([7, 2, 7, 2, 9, 7])
    centers = modality_centers(feats, labels)
    assert centers.shape == (3, 2, 3)
    for row, label in enumerate((2, 7, 9)):  # ascending label order
        expect = feats[labels == label].mean(dim=0)
        torch.testing.assert_close(centers[row], expect)


@pytest.mark.parametrize('distance', ['squared_l2', 'l2'])
def test_modality_pair_distances_by_hand(distance):
    centers = torch.randn(4, 3, 5, dtype=torch.float64)
    dist = modality_pair_distances(centers, distance)
    assert dist.shape == (4, 3)
    for u in range(4):
        for q, (j, k) in enumerate(itertools.combinations(range(3), 2)):
            d = ((centers[u, j] - centers[u, k])**2).sum()
            if distance == 'l2':
                d = d.sqrt()
            torch.testing.assert_close(dist[u, q], d)
    with pytest.raises(ValueError, match="'cosine'"):
        modality_pair_distances(centers, 'cosine')


def test_subclass_contract_is_checked():

    class NoLevel(BaseMetricLoss):
        pass

    class Good(BaseMetricLoss):
        input_level = 'modality'

    with pytest.raises(ValueError, match='NoLevel: input_level'):
        NoLevel(loss_name='loss_x')
    with pytest.raises(ValueError, match='Good: loss_name must start with'):
        Good(loss_name='x')
    loss = Good(loss_weight=0.5, loss_name='loss_good')
    assert loss.loss_name == 'loss_good' and loss.loss_weight == 0.5
