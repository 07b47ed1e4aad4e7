# Copyright (c) mmieee contributors.
"""MultiModalReID: modes, modality handling, contracts and the IEEE model."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401
from mmieee.registry import MODELS

P, COUT = 2, 8
MODALITIES = {2: ('RGB', 'TI'), 3: ('RGB', 'NI', 'TI')}


def tiny_cfg(num_modalities=3, num_classes=4, **kwargs):
    """Narrow ResNet-18 streams (16 base channels), small neck; 64 x 32.

    zero_init_residual=False: mmpretrain's default zeroes the last BN of
    every block, which would make the residual branches' gradients exactly
    zero at init (the real model starts from ImageNet weights instead).
    """
    cfg = dict(
        type='MultiModalReID',
        modalities=MODALITIES[num_modalities],
        backbone=dict(
            type='MultiStreamBackbone',
            backbone=dict(
                type='mmpretrain.ResNet',
                depth=18,
                stem_channels=16,
                base_channels=16,
                strides=(1, 2, 2, 1),
                zero_init_residual=False)),
        neck=dict(
            type='IEEENeck',
            in_channels=128,
            reduce_channels=16,
            out_channels=COUT,
            num_parts=P,
            cim=dict(type='CrossModalInteraction', ca_ratio=16),
            rem=dict(type='RelationEmbedding', variant='official')),
        head=dict(
            type='IEEEHead',
            num_classes=num_classes,
            num_parts=P,
            in_channels=COUT,
            metric_losses=[dict(type='MultiModalMarginLoss')]))
    cfg.update(kwargs)
    return cfg


def _batch(num_modalities=3, labels=(0, 0, 1, 1)):
    torch.manual_seed(3)
    inputs = torch.randn(len(labels), num_modalities, 3, 64, 32)
    return inputs, [DataSample().set_gt_label(y) for y in labels]


def _num(value):
    return float(value.detach()) if torch.is_tensor(value) else float(value)


def _total(losses):
    return sum(v for k, v in losses.items() if k.startswith('loss_'))


def test_gradients_reach_every_trainable_parameter():
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg())
    model.init_weights()
    inputs, samples = _batch()
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss_ce', 'loss_3m', 'acc_top1'}
    _total(losses).backward()
    no_grad = [
        n for n, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)
    ]
    # With gamma = 0 the official REM's projection gets an exactly zero
    # gradient (d embed / dW = gamma * 2 * ...); everything else is non-zero.
    assert sorted(no_grad) == sorted(
        f'neck.rems.{m}.global_proj.{t}' for m in range(3)
        for t in ('weight', 'bias'))
    for m in range(3):
        gamma = model.neck.rems[m].gamma
        assert gamma.item() == 0.0 and gamma.grad.abs().item() > 0

    # Once gamma moves away from 0 the projection is trained too.
    model.zero_grad()
    with torch.no_grad():
        for rem in model.neck.rems:
            rem.gamma.fill_(0.5)
    _total(model(inputs, samples, mode='loss')).backward()
    for n, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, n


@pytest.mark.parametrize('num_modalities', [2, 3])
def test_builds_and_trains_one_sgd_step(num_modalities):
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg(num_modalities))
    assert model.backbone.num_modalities == num_modalities
    assert len(model.head.classifiers) == num_modalities
    model.init_weights()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01,
                                         momentum=0.9, nesterov=True))
    inputs, samples = _batch(num_modalities)
    before = copy.deepcopy(model.state_dict())
    log_vars = model.train_step(dict(inputs=inputs, data_samples=samples),
                                optim)
    total = _num(log_vars['loss'])
    assert torch.isfinite(torch.tensor(total))
    assert total == pytest.approx(
        _num(log_vars['loss_ce']) + _num(log_vars['loss_3m']), rel=1e-5)
    after = model.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert 'head.classifiers.0.0.weight' in changed
    assert 'backbone.streams.0.conv1.weight' in changed
    assert f'neck.rems.{num_modalities - 1}.gamma' in changed


def test_predict_and_tensor_feature():
    model = MODELS.build(tiny_cfg()).eval()
    inputs, samples = _batch()
    with torch.no_grad():
        out = model(inputs, samples, mode='predict')
        tensor = model(inputs, mode='tensor')
        neck_out = model.extract_feat(inputs)
    assert tensor.shape == (4, 3 * P * COUT)
    assert neck_out.shape == (4, 3, P, COUT)
    for i, s in enumerate(out):
        assert s.pred_feature.shape == (3 * P * COUT, )
        torch.testing.assert_close(s.pred_feature, tensor[i])
        torch.testing.assert_close(s.pred_feature, neck_out[i].flatten())
        assert s.gt_label.item() == samples[i].gt_label.item()


class _Recorder(torch.nn.Module):
    """Wraps the backbone and records what it is given."""

    def __init__(self, backbone):
        super().__init__()
        self.inner = backbone
        self.num_modalities = backbone.num_modalities
        self.seen = None

    def forward(self, x):
        self.seen = x.detach().clone()
        return self.inner(x)


@pytest.mark.parametrize('blank,indices', [(('NI', ), [1]), (['TI', 0],
                                                             [0, 2]),
                                           ((-1, ), [2])])
def test_blank_modalities_zeroes_the_right_inputs(blank, indices):
    model = MODELS.build(
        tiny_cfg(test_cfg=dict(blank_modalities=blank))).eval()
    assert model.blank_indices == indices
    model.backbone = _Recorder(model.backbone)
    inputs, samples = _batch()
    with torch.no_grad():
        for mode in ('predict', 'tensor'):
            model(inputs, samples, mode=mode)
            seen = model.backbone.seen
            for m in range(3):
                if m in indices:
                    assert torch.count_nonzero(seen[:, m]) == 0
                else:
                    torch.testing.assert_close(seen[:, m], inputs[:, m])
        model.train()
        model(inputs, samples, mode='loss')  # training is never blanked
        torch.testing.assert_close(model.backbone.seen, inputs)
    assert torch.count_nonzero(inputs) == inputs.numel()  # caller untouched


def test_blank_modalities_errors():
    with pytest.raises(ValueError, match=r"'IR'.*\('RGB', 'NI', 'TI'\)"):
        MODELS.build(tiny_cfg(test_cfg=dict(blank_modalities=('IR', ))))
    with pytest.raises(ValueError, match='index'):
        MODELS.build(tiny_cfg(test_cfg=dict(blank_modalities=(3, ))))
    with pytest.raises(ValueError, match='unknown test_cfg keys'):
        MODELS.build(tiny_cfg(test_cfg=dict(blank_modality=('NI', ))))


def test_config_errors():
    cfg = tiny_cfg()
    cfg['neck']['num_modalities'] = 2
    with pytest.raises(ValueError, match='neck.num_modalities=2'):
        MODELS.build(cfg)
    model = MODELS.build(tiny_cfg())
    inputs, samples = _batch(num_modalities=2)
    with pytest.raises(ValueError, match='M=3'):
        model(inputs, samples, mode='loss')
    with pytest.raises(TypeError, match='data preprocessor'):
        model(torch.zeros(1, 3, 3, 64, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match='invalid mode'):
        model(torch.zeros(1, 3, 3, 64, 32), mode='features')


def test_uint8_batch_through_the_data_preprocessor():
    cfg = tiny_cfg(
        data_preprocessor=dict(
            type='MultiModalDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375]))
    model = MODELS.build(cfg).eval()
    _, samples = _batch()
    inputs = torch.randint(0, 256, (4, 3, 3, 64, 32), dtype=torch.uint8)
    with torch.no_grad():
        out = model.test_step(dict(inputs=inputs, data_samples=samples))
    assert out[0].pred_feature.shape == (3 * P * COUT, )


def test_full_size_official_parameter_count():
    """Three ResNet-50 streams, 2048/768/128, 6 parts, 171 ids."""
    model = MODELS.build(
        dict(
            type='MultiModalReID',
            backbone=dict(type='MultiStreamBackbone'),
            neck=dict(type='IEEENeck'),
            head=dict(type='IEEEHead', num_classes=171)))
    count = sum(p.numel() for p in model.parameters())
    assert count == 105_955_785
    # The official model also has the dead REM conv_query / conv_value.
    dead = 3 * 2 * (768 * 768 + 768)
    assert count + dead == 109_499_337
    assert sum(p.numel() for p in model.backbone.parameters()) == \
        3 * 23_508_032  # torchvision ResNet-50 without fc, per stream
    assert model.head.classifiers[0][0].weight.shape == (171, 128)
    keys = set(model.state_dict())
    assert 'backbone.streams.2.layer4.2.bn3.weight' in keys
    assert 'neck.cim.channel_attentions.0.reduce.conv.weight' in keys
    assert model.neck.cim.channel_attentions[0].reduce.conv.weight.shape \
        == (128, 2048, 1, 1)


def test_set_blank_modalities_switches_scenarios_on_a_built_model():
    model = MODELS.build(tiny_cfg()).eval()
    inputs, samples = _batch()
    with torch.no_grad():
        full = model(inputs, mode='tensor')
        model.set_blank_modalities(['TI'])
        assert model.blank_indices == [2]
        assert model.test_cfg['blank_modalities'] == ['TI']
        no_ti = model(inputs, mode='tensor')
        zeroed = inputs.clone()
        zeroed[:, 2] = 0
        model.set_blank_modalities(())
        torch.testing.assert_close(no_ti, model(zeroed, mode='tensor'))
        torch.testing.assert_close(full, model(inputs, mode='tensor'))
    assert not torch.allclose(full, no_ti)
    with pytest.raises(ValueError, match="'IR'"):
        model.set_blank_modalities(['IR'])


def _with_modalities(samples, modalities):
    for s in samples:
        s.set_metainfo(dict(modalities=tuple(modalities)))
    return samples


@pytest.mark.parametrize('given', [('TI', 'NI', 'RGB'), ('RGB', 'NI')])
def test_batch_in_another_modality_order_is_refused(given):
    model = MODELS.build(tiny_cfg())
    inputs, samples = _batch()
    samples = _with_modalities(samples, given)
    for mode in ('loss', 'predict'):
        with pytest.raises(ValueError) as err:
            model(inputs, copy.deepcopy(samples), mode=mode)
        msg = str(err.value)
        assert str(list(given)) in msg
        assert "['RGB', 'NI', 'TI']" in msg


def test_batch_in_the_model_order_passes():
    model = MODELS.build(tiny_cfg())
    inputs, samples = _batch()
    losses = model(inputs, _with_modalities(samples, MODALITIES[3]),
                   mode='loss')
    assert torch.isfinite(losses['loss_ce'])


def _train_step(model, inputs, samples, iteration=4, epoch=1):
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', iteration)
    hub.update_info('epoch', epoch)
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1,
                                         momentum=0.9))
    return model.train_step(dict(inputs=inputs, data_samples=samples),
                            optim)


def test_nan_input_stops_training_naming_iteration_epoch_and_terms():
    model = MODELS.build(tiny_cfg())
    model.train()
    inputs, samples = _batch()
    inputs[1, 0, 0, 5, 5] = float('nan')
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(FloatingPointError) as err:
        _train_step(model, inputs, samples, iteration=4, epoch=1)
    msg = str(err.value)
    assert 'iteration 5 (epoch 2)' in msg
    assert 'loss_ce=nan' in msg and 'loss_3m=nan' in msg
    # the optimizer did not step
    for key, value in model.state_dict().items():
        if value.is_floating_point() and 'running' not in key:
            assert torch.equal(value, before[key]), key


def test_skip_mode_drops_the_batch_and_restores_batchnorm_statistics():
    model = MODELS.build(tiny_cfg(train_cfg=dict(non_finite_loss='skip')))
    model.train()
    inputs, samples = _batch()
    inputs[1, 0, 0, 5, 5] = float('nan')
    before = copy.deepcopy(model.state_dict())
    log_vars = _train_step(model, inputs, samples)
    assert float(log_vars['loss'].detach()) == 0
    after = model.state_dict()
    for key, value in before.items():
        assert torch.equal(after[key].float(), value.float()), key
    # a finite batch afterwards trains normally
    inputs, samples = _batch()
    log_vars = _train_step(model, inputs, samples)
    loss = log_vars['loss'].detach()
    assert torch.isfinite(loss) and float(loss) > 0


def test_unknown_non_finite_action_is_refused():
    with pytest.raises(ValueError, match="non_finite_loss must be one of"):
        MODELS.build(tiny_cfg(train_cfg=dict(non_finite_loss='ignore')))


def test_neck_in_channels_contradicting_the_backbone_names_both():
    cfg = tiny_cfg()
    cfg['neck']['in_channels'] = 2048
    model = MODELS.build(cfg)
    inputs, _ = _batch()
    with pytest.raises(ValueError, match='model.neck.in_channels=2048 but '
                       'the backbone gives 128-channel maps'):
        model(inputs, mode='tensor')


def test_more_parts_than_feature_rows_is_an_error():
    model = MODELS.build(tiny_cfg(
        neck=dict(tiny_cfg()['neck'], num_parts=6),
        head=dict(tiny_cfg()['head'], num_parts=6)))
    inputs = torch.randn(2, 3, 3, 64, 32)  # 64 rows / 16 = 4 map rows
    with pytest.raises(ValueError, match=r'num_parts=6 .* only 4 rows high '
                       r'for \(64, 32\) inputs'):
        model(inputs, mode='tensor')
