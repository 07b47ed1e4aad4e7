# Copyright (c) mmieee contributors.
"""BNNeckHead against a hand computation: BN (batch statistics) -> bias-free
classifier -> label-smoothed CE, soft-margin batch-hard triplet on the
feature before the BN, auxiliary losses passed through, the test feature."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401
from mmieee.registry import MODELS


def _head(**kwargs):
    cfg = dict(type='BNNeckHead', num_classes=3,
               branches=dict(a=4, b=6), test_feature=('b', 'a'))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def _batch():
    g = torch.Generator().manual_seed(1)
    feats = dict(a=torch.randn(4, 4, generator=g),
                 b=torch.randn(4, 6, generator=g),
                 loss_aux=torch.tensor(0.5))
    samples = [DataSample().set_gt_label(k) for k in (0, 0, 2, 2)]
    return feats, samples


def _smooth_ce(logits, labels, eps=0.1):
    target = torch.full_like(logits, eps / logits.shape[1])
    target[torch.arange(len(labels)), labels] += 1 - eps
    return -(target * logits.log_softmax(1)).sum(1).mean()


def _soft_triplet(x, labels):
    d = torch.cdist(x, x)
    same = labels[:, None] == labels[None]
    ap = d.masked_fill(~same, -1).max(1).values
    an = d.masked_fill(same, float('inf')).min(1).values
    return F.softplus(ap - an).mean()


def test_losses_equal_the_hand_computation():
    head = _head()
    head.train()
    feats, samples = _batch()
    labels = torch.tensor([0, 0, 2, 2])
    losses = head.loss(feats, samples)
    for name in ('a', 'b'):
        x = feats[name]
        bn = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + 1e-5)
        logits = bn @ head.classifiers[name].weight.t()
        torch.testing.assert_close(losses[f'loss_ce_{name}'],
                                   _smooth_ce(logits, labels))
        torch.testing.assert_close(losses[f'loss_triplet_{name}'],
                                   _soft_triplet(x, labels))
    assert losses['loss_aux'] == 0.5
    assert set(losses) == {'loss_ce_a', 'loss_triplet_a', 'loss_ce_b',
                           'loss_triplet_b', 'loss_aux', 'acc_top1_a',
                           'acc_top1_b'}
    # gradients reach the features and the classifiers, not the BN biases
    total = sum(v for k, v in losses.items() if k.startswith('loss_ce'))
    total.backward()
    assert head.classifiers['a'].weight.grad.abs().sum() > 0
    assert not head.bnnecks['a'].bias.requires_grad


def test_official_initialisation_and_weights():
    head = _head(loss_ce=dict(type='mmpretrain.LabelSmoothLoss',
                              label_smooth_val=0.1, mode='original',
                              loss_weight=0.25))
    w = head.classifiers['b'].weight
    assert head.classifiers['b'].bias is None
    assert 0.0005 < float(w.std()) < 0.002
    assert (head.bnnecks['b'].weight == 1).all()
    head.train()
    feats, samples = _batch()
    plain = _head().loss(feats, samples)['loss_ce_a']
    torch.testing.assert_close(head.loss(feats, samples)['loss_ce_a'],
                               0.25 * plain)


def test_test_feature_before_or_after_the_neck():
    feats, _ = _batch()
    head = _head().eval()
    out = head.predict(feats)
    assert out[0].pred_feature.shape == (10, )
    torch.testing.assert_close(
        head.test_features(feats), torch.cat([feats['b'], feats['a']], 1))
    after = _head(neck_feat='after').eval()
    torch.testing.assert_close(
        after.test_features(feats)[:, 6:], after.bnnecks['a'](feats['a']))


def test_errors_name_the_branch():
    with pytest.raises(ValueError, match=r"test_feature=\('c',\) must name"):
        _head(test_feature=('c', ))
    with pytest.raises(ValueError, match="neck_feat must be one of"):
        _head(neck_feat='mid')
    # True is an int to Python, not a class count
    for bad in (True, 0, 2.0):
        with pytest.raises(ValueError, match='BNNeckHead: num_classes must '
                           f'be an integer >= 1, got {bad!r}'):
            _head(num_classes=bad)
    head = _head()
    feats, samples = _batch()
    with pytest.raises(KeyError, match=r"not \['b'\] \(head.branches\)"):
        head(dict(a=feats['a']))
    with pytest.raises(ValueError, match=r"feature 'a' has shape \(4, 5\)"):
        head(dict(a=torch.zeros(4, 5), b=feats['b']))


def test_training_only_keys_are_what_the_test_feature_does_not_use():
    """The classifiers never reach pred_feature; the BN necks only with
    neck_feat='after' (evaluation loading relaxes exactly these keys)."""
    feats, _ = _batch()
    head = _head().eval()
    assert head.training_only_prefixes == ('classifiers.', 'bnnecks.')
    before = head.test_features(feats)
    with torch.no_grad():
        for name in ('a', 'b'):
            head.classifiers[name].weight.add_(1.0)
            head.bnnecks[name].weight.mul_(3.0)
    torch.testing.assert_close(head.test_features(feats), before)
    assert _head(neck_feat='after').training_only_prefixes == (
        'classifiers.', )
