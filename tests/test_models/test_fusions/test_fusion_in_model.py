# Copyright (c) mmieee contributors.
"""A fusion module in the model: the neck and head are built for the
branches it outputs, and the errors say what does not fit."""
import pytest
import torch
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401
from mmieee.registry import MODELS

P, COUT = 2, 8
STREAM = dict(
    type='mmpretrain.ResNet',
    depth=18,
    stem_channels=8,
    base_channels=8,
    strides=(1, 2, 2, 1),
    out_indices=(3, ),
    zero_init_residual=False)


def model_cfg(backbone=None, cim=None, metric_losses=(),
              global_source='cim'):
    return dict(
        type='MultiModalReID',
        modalities=('RGB', 'NI', 'TI'),
        backbone=backbone or dict(type='MultiStreamBackbone', backbone=STREAM),
        neck=dict(type='IEEENeck', in_channels=64, reduce_channels=16,
                  out_channels=COUT, num_parts=P, cim=cim,
                  global_source=global_source),
        head=dict(type='IEEEHead', num_classes=3, num_parts=P,
                  in_channels=COUT, metric_losses=list(metric_losses)))


@pytest.mark.parametrize('kind,branches', [('early', 1), ('late-sum', 1),
                                           ('late-concat', 1),
                                           ('progressive', 4)])
def test_branches_features_and_loss(kind, branches):
    cfg = {
        'early': model_cfg(backbone=dict(type='EarlySumFusion',
                                         backbone=STREAM)),
        'late-sum': model_cfg(cim=dict(type='LateSumFusion')),
        'late-concat': model_cfg(cim=dict(type='LateConcatFusion')),
        'progressive': model_cfg(cim=dict(type='ProgressiveFusion')),
    }[kind]
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    assert model.neck.num_branches == branches
    assert len(model.head.classifiers) == branches
    assert len(model.neck.part_fcs) == branches
    inputs = torch.randn(4, 3, 3, 32, 16)
    samples = [DataSample().set_gt_label(y) for y in (0, 0, 1, 1)]
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_ce', 'acc_top1'}
    model.eval()
    with torch.no_grad():
        feats = model(inputs, mode='tensor')
        parts = model.extract_feat(inputs)
    # the test feature: every branch's P part embeddings, concatenated
    assert feats.shape == (4, branches * P * COUT)
    torch.testing.assert_close(feats, parts.flatten(1))


def test_errors_name_what_does_not_fit():
    with pytest.raises(ValueError, match=r"global_source='backbone'.*"
                       r"LateSumFusion turns 3 maps into 1"):
        MODELS.build(model_cfg(cim=dict(type='LateSumFusion'),
                               global_source='backbone'))
    with pytest.raises(ValueError, match=r"loss_3m.*the head gets 1"):
        MODELS.build(model_cfg(cim=dict(type='LateSumFusion'),
                               metric_losses=[dict(
                                   type='MultiModalMarginLoss')]))
    cfg = model_cfg(backbone=dict(type='EarlySumFusion', backbone=STREAM))
    cfg['neck']['num_modalities'] = 3
    with pytest.raises(ValueError, match=r'neck.num_modalities=3 but the '
                       r'backbone outputs 1 branch'):
        MODELS.build(cfg)
