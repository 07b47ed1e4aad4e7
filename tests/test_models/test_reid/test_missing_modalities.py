# Copyright (c) mmieee contributors.
"""MultiModalReID's test_cfg.missing_modalities (TOP-ReID's TEST.MISS): the
missing indices reach a neck that declares it can reconstruct, in predict
and tensor mode only; any other neck, unknown names and 'everything
missing' are refused by name; blank_modalities keeps working beside it."""
import copy

import pytest
import torch
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401
from mmieee.registry import MODELS

MODALITIES = ('RGB', 'NI', 'TI')


def tiny_topreid(**kwargs):
    """Two-layer 16-d ViT streams on 32 x 16 inputs, TPM + CRM."""
    cfg = dict(
        type='MultiModalReID',
        modalities=MODALITIES,
        backbone=dict(
            type='MultiStreamBackbone',
            backbone=dict(
                type='ReIDViT',
                arch=dict(embed_dims=16, num_layers=2, num_heads=2,
                          feedforward_channels=32),
                img_size=(32, 16), patch_size=8, num_cameras=2,
                camera_embed_coef=3.0, norm_cfg=dict(type='LN', eps=1e-6))),
        neck=dict(
            type='TOPReIDNeck', in_channels=16,
            tpm=dict(type='TokenPermutation', num_heads=2,
                     feedforward_channels=32),
            crm=dict(type='ComplementaryReconstruction', num_heads=2,
                     feedforward_channels=32)),
        head=dict(type='BNNeckHead', num_classes=3,
                  branches=dict(tpm=48, cls=48), test_feature=('tpm', )))
    cfg.update(kwargs)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def _batch(n=2):
    inputs = torch.randn(n, 3, 3, 32, 16, generator=torch.Generator()
                         .manual_seed(1))
    samples = [DataSample(metainfo=dict(camid=i % 2, modalities=MODALITIES))
               .set_gt_label(i % 3) for i in range(n)]
    return inputs, samples


def test_missing_modalities_are_reconstructed_in_predict_and_tensor_mode():
    model = tiny_topreid(test_cfg=dict(missing_modalities=['TI']))
    assert model.missing_indices == [2]
    inputs, samples = _batch()
    with torch.no_grad():
        feats = model(inputs, samples, mode='tensor')
        tokens = model.backbone(inputs, camids=torch.tensor([0, 1]))
        want = model.neck.tpm(model.neck.crm.reconstruct(list(tokens), [2]))
        torch.testing.assert_close(feats, want)
        # the TI images no longer matter
        other = inputs.clone()
        other[:, 2] = torch.randn_like(other[:, 2])
        torch.testing.assert_close(model(other, samples, mode='tensor'),
                                   feats)
        predicted = model(inputs, copy.deepcopy(samples), mode='predict')
        torch.testing.assert_close(
            torch.stack([s.pred_feature for s in predicted]), feats)
        model.set_missing_modalities(())
        assert not torch.allclose(model(inputs, samples, mode='tensor'),
                                  feats)
    assert model.test_cfg['missing_modalities'] == []


def test_training_ignores_the_option():
    model = tiny_topreid(test_cfg=dict(missing_modalities=['RGB']))
    model.train()
    inputs, samples = _batch(4)
    called = []
    model.neck.register_forward_pre_hook(
        lambda module, args, kwargs: called.append(kwargs),
        with_kwargs=True)
    losses = model(inputs, samples, mode='loss')
    assert 'loss_crm' in losses and called == [{}]


def test_blanking_still_works_beside_it():
    model = tiny_topreid(
        test_cfg=dict(blank_modalities=['NI'], missing_modalities=['RGB']))
    inputs, samples = _batch()
    with torch.no_grad():
        feats = model(inputs, samples, mode='tensor')
        blanked = inputs.clone()
        blanked[:, 1] = 0
        tokens = model.backbone(blanked, camids=torch.tensor([0, 1]))
        want = model.neck.tpm(model.neck.crm.reconstruct(list(tokens), [0]))
    torch.testing.assert_close(feats, want)


def test_refusals_name_the_value_and_the_neck():
    with pytest.raises(ValueError, match=r"missing_modalities names 'IR'"):
        tiny_topreid(test_cfg=dict(missing_modalities=['IR']))
    with pytest.raises(ValueError, match='lists every modality'):
        tiny_topreid(test_cfg=dict(missing_modalities=list(MODALITIES)))
    with pytest.raises(ValueError, match='TOPReIDNeck'):
        tiny_topreid(
            neck=dict(type='TOPReIDNeck', in_channels=16, crm=None,
                      tpm=dict(type='TokenPermutation', num_heads=2,
                               feedforward_channels=32)),
            test_cfg=dict(missing_modalities=['NI']))
    ieee = dict(
        type='MultiModalReID',
        backbone=dict(type='MultiStreamBackbone',
                      backbone=dict(type='mmpretrain.ResNet', depth=18,
                                    stem_channels=8, base_channels=8)),
        neck=dict(type='IEEENeck', in_channels=64, reduce_channels=8,
                  out_channels=4, num_parts=2),
        head=dict(type='IEEEHead', num_classes=2, num_parts=2,
                  in_channels=4),
        test_cfg=dict(missing_modalities=['NI']))
    with pytest.raises(ValueError, match='and IEEENeck does not'):
        MODELS.build(ieee)
    ieee['test_cfg'] = dict(blank_modalities=['NI'])
    assert MODELS.build(ieee).missing_indices == []
