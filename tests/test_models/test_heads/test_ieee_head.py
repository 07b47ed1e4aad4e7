# Copyright (c) mmieee contributors.
"""IEEEHead: CE over M x P parts (Eq. 7), metric losses, accuracy, predict."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch import nn

import mmieee  # noqa: F401
from mmieee.models.heads import IEEEHead
from mmieee.models.losses import MultiModalMarginLoss
from mmieee.registry import MODELS

M, P, C, K = 3, 2, 4, 5


@MODELS.register_module(force=True)
class _RecordingFusedLoss(nn.Module):
    """Test double: a 'fused' metric loss that records its input."""
    input_level = 'fused'
    loss_name = 'loss_recorded'

    def __init__(self, loss_weight=1.0):
        super().__init__()
        self.loss_weight = loss_weight
        self.seen = None

    def forward(self, feats, labels):
        self.seen = (feats, labels)
        return feats.sum() * 0


def _samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def _hand_smoothed_ce(logits, labels, eps=0.1):
    """(1 - eps) one-hot + eps / K, batch-averaged."""
    q = F.one_hot(labels, logits.size(1)).double() * (1 - eps) \
        + eps / logits.size(1)
    return -(q * logits.double().log_softmax(1)).sum(1).mean()


@pytest.mark.parametrize('ce_reduction', ['sum', 'mean'])
def test_ce_is_the_sum_over_parts(ce_reduction):
    torch.manual_seed(0)
    head = IEEEHead(
        num_classes=K, num_modalities=M, num_parts=P, in_channels=C,
        ce_reduction=ce_reduction, metric_losses=[])
    feats = torch.randn(6, M, P, C)
    labels = torch.tensor([0, 4, 2, 2, 1, 0])
    losses = head.loss(feats, _samples(labels))
    assert set(losses) == {'loss_ce', 'acc_top1'}
    explicit = sum(
        _hand_smoothed_ce(head.classifiers[m][p](feats[:, m, p]), labels)
        for m in range(M) for p in range(P))
    if ce_reduction == 'mean':
        explicit = explicit / (M * P)
    assert losses['loss_ce'].item() == pytest.approx(explicit.item(),
                                                     rel=1e-5)


def test_plain_cross_entropy_config():
    head = IEEEHead(
        num_classes=K, num_modalities=M, num_parts=P, in_channels=C,
        loss_ce=dict(type='mmpretrain.CrossEntropyLoss'), metric_losses=[])
    feats = torch.randn(4, M, P, C)
    labels = torch.tensor([1, 2, 3, 4])
    explicit = sum(
        F.cross_entropy(head.classifiers[m][p](feats[:, m, p]), labels)
        for m in range(M) for p in range(P))
    got = head.loss(feats, _samples(labels))['loss_ce']
    assert got.item() == pytest.approx(explicit.item(), rel=1e-5)


def test_batched_classifiers_equal_the_part_linears():
    """forward runs the M x P Linear layers as one batched product: same
    logits and same gradients as calling each layer on its part."""
    torch.manual_seed(1)
    head = IEEEHead(num_classes=K, num_modalities=M, num_parts=P,
                    in_channels=C, metric_losses=[])
    feats = torch.randn(6, M, P, C)
    logits = head(feats)
    assert logits.shape == (6, M, P, K)
    weights = torch.randn_like(logits)
    (logits * weights).sum().backward()
    batched = [(c.weight.grad.clone(), c.bias.grad.clone())
               for per in head.classifiers for c in per]
    head.zero_grad()
    for m in range(M):
        for p in range(P):
            part = head.classifiers[m][p](feats[:, m, p])
            torch.testing.assert_close(logits[:, m, p], part)
            (part * weights[:, m, p]).sum().backward()
    for (gw, gb), cls in zip(batched,
                             [c for per in head.classifiers for c in per]):
        torch.testing.assert_close(gw, cls.weight.grad)
        torch.testing.assert_close(gb, cls.bias.grad)


def test_ce_loss_must_average_over_the_batch():
    with pytest.raises(ValueError, match="reduction='sum'.*must be the mean"):
        IEEEHead(num_classes=K,
                 loss_ce=dict(type='mmpretrain.CrossEntropyLoss',
                              reduction='sum'))


def test_label_smoothing_on_cross_entropy_gets_a_hint():
    with pytest.raises(TypeError, match='LabelSmoothLoss'):
        IEEEHead(
            num_classes=K,
            loss_ce=dict(type='mmpretrain.CrossEntropyLoss',
                         label_smooth_val=0.1))


def test_metric_losses_get_the_documented_inputs():
    torch.manual_seed(1)
    head = IEEEHead(
        num_classes=K, num_modalities=M, num_parts=P, in_channels=C,
        metric_losses=[
            dict(type='MultiModalMarginLoss', distance='l2'),
            dict(type='_RecordingFusedLoss')
        ])
    feats = torch.randn(4, M, P, C)
    labels = torch.tensor([3, 1, 3, 1])
    losses = head.loss(feats, _samples(labels))
    assert set(losses) == {'loss_ce', 'loss_3m', 'loss_recorded',
                           'acc_top1'}
    # 'modality': (B, M, P*C), part 0 first.
    modality_input = torch.cat([feats[:, :, p] for p in range(P)], dim=2)
    expected = MultiModalMarginLoss(distance='l2')(modality_input, labels)
    torch.testing.assert_close(losses['loss_3m'], expected)
    # 'fused': (B, M*P*C) with modality-major order.
    seen_feats, seen_labels = head.metric_losses[1].seen
    torch.testing.assert_close(seen_feats, feats.reshape(4, M * P * C))
    torch.testing.assert_close(seen_labels, labels)


def test_duplicate_loss_names_are_rejected():
    with pytest.raises(ValueError, match="duplicate loss_name 'loss_3m'"):
        IEEEHead(
            num_classes=K,
            metric_losses=[
                dict(type='MultiModalMarginLoss'),
                dict(type='MultiModalMarginLoss', distance='l2')
            ])
    # Distinct names are fine.
    head = IEEEHead(
        num_classes=K,
        metric_losses=[
            dict(type='MultiModalMarginLoss'),
            dict(type='MultiModalMarginLoss', loss_name='loss_3m_l2')
        ])
    assert len(head.metric_losses) == 2


def test_accuracy_uses_the_summed_part_logits():
    head = IEEEHead(
        num_classes=3, num_modalities=2, num_parts=2, in_channels=2,
        metric_losses=[], topk=(1, 2))
    with torch.no_grad():
        for m in range(2):
            for p in range(2):
                head.classifiers[m][p].weight.zero_()
                head.classifiers[m][p].bias.zero_()
        # Only one part classifier is informative: logits = feats[:, 0, 0]
        # padded with a zero third class.
        head.classifiers[0][0].weight.copy_(
            torch.tensor([[1., 0.], [0., 1.], [0., 0.]]))
    feats = torch.zeros(4, 2, 2, 2)
    feats[:, 0, 0] = torch.tensor([[2., 1.], [2., 1.], [1., 3.], [-1., -2.]])
    labels = torch.tensor([0, 1, 1, 1])
    losses = head.loss(feats, _samples(labels))
    # argmax of summed logits: 0, 0, 1, 2 -> hits 1, 0, 1, 0.
    assert losses['acc_top1'].item() == pytest.approx(50.0)
    # top-2 sets: {0,1}, {0,1}, {1,0}, {2,0} -> hits 1, 1, 1, 0.
    assert losses['acc_top2'].item() == pytest.approx(75.0)


def test_predict_sets_flattened_feature():
    head = IEEEHead(num_classes=K, num_modalities=M, num_parts=P,
                    in_channels=C)
    feats = torch.randn(2, M, P, C)
    samples = head.predict(feats, _samples([0, 1]))
    for i, s in enumerate(samples):
        assert s.pred_feature.shape == (M * P * C, )
        torch.testing.assert_close(s.pred_feature, feats[i].flatten())
    assert len(head.predict(feats)) == 2


def test_classifier_names():
    head = IEEEHead(num_classes=171)
    keys = set(head.state_dict())
    assert {'classifiers.2.5.weight', 'classifiers.0.0.bias'} <= keys
    assert head.classifiers[1][3].weight.shape == (171, 128)


@pytest.mark.parametrize('loss', ['MultiModalMarginLoss', 'HeteroCenterLoss'])
def test_modality_centre_loss_on_one_modality_is_refused_when_built(loss):
    with pytest.raises(ValueError, match=f'{loss} .* compares at least 2 '
                       'modality branches, the head gets 1'):
        IEEEHead(num_classes=4, num_modalities=1,
                 metric_losses=[dict(type=loss)])


def test_neck_output_of_another_size_names_both_numbers():
    """A head.in_channels that does not match the neck's part embeddings
    fails with both numbers, not torch.baddbmm's shape error."""
    head = IEEEHead(num_classes=5, num_modalities=2, num_parts=3,
                    in_channels=8, metric_losses=())
    with pytest.raises(ValueError, match=r'model.head.in_channels=8 but the '
                       r'neck gives 16 \(the neck outputs \(B, M, P, C\) = '
                       r'\(4, 2, 3, 16\)'):
        head(torch.zeros(4, 2, 3, 16))
    with pytest.raises(ValueError, match='model.head.num_parts=3 but the '
                       'neck gives 2'):
        head(torch.zeros(4, 2, 2, 8))
