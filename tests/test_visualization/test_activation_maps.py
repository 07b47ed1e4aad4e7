# Copyright (c) mmieee contributors.
"""Per-stream activation maps (torchreid's method) and Grad-CAM."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmieee  # noqa: F401
from mmieee.registry import MODELS
from mmieee.visualization import (grad_cam_maps, preprocess,
                                  stream_activation_maps)

DEMO = Path(__file__).resolve().parents[2] / 'configs' / 'ieee' / \
    'ieee_r18_1xb16-8e_synthetic-demo.py'


@pytest.fixture(scope='module')
def model():
    cfg = Config.fromfile(str(DEMO))
    cfg.merge_from_dict({
        'model.backbone.backbone.base_channels': 8,
        'model.backbone.backbone.stem_channels': 8,
        'model.neck.in_channels': 64,
        'model.neck.reduce_channels': 16,
        'model.neck.out_channels': 8,
        'model.head.in_channels': 8,
        'model.head.num_classes': 5,
    })
    init_default_scope('mmieee')
    torch.manual_seed(0)
    return MODELS.build(cfg.model).eval()


def _inputs(model, seed=0):
    gen = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (3, 3, 64, 32), generator=gen,
                        dtype=torch.uint8)
    inputs, _ = preprocess(model, [dict(inputs=img)])
    return inputs


def test_maps_are_the_mean_of_squared_stream_activations(model):
    inputs = _inputs(model)
    maps = stream_activation_maps(model, inputs)
    outs = model.backbone(inputs)
    assert len(maps) == 3
    for amap, out in zip(maps, outs):
        assert amap.shape == (1, ) + out.shape[2:]  # (B, h, w)
        torch.testing.assert_close(amap, (out**2).mean(1))
        assert (amap >= 0).all()


def test_blanking_a_stream_changes_its_map_only(model):
    """The map of the stream whose input is blanked differs from the one of
    the un-blanked input; the other streams are untouched."""
    inputs = _inputs(model)
    before = stream_activation_maps(model, inputs)
    model.set_blank_modalities(['NI'])
    try:
        blanked = model.blank(inputs)
        after = stream_activation_maps(model, blanked)
    finally:
        model.set_blank_modalities(())
    assert not torch.allclose(before[1], after[1])
    torch.testing.assert_close(before[0], after[0], rtol=0, atol=0)
    torch.testing.assert_close(before[2], after[2], rtol=0, atol=0)


def test_preprocess_applies_the_test_blanking(model):
    img = torch.full((3, 3, 64, 32), 200, dtype=torch.uint8)
    model.set_blank_modalities(['TI'])
    try:
        inputs, _ = preprocess(model, [dict(inputs=img)])
    finally:
        model.set_blank_modalities(())
    assert (inputs[:, 2] == 0).all() and (inputs[:, :2] != 0).any()


def test_grad_cam_per_stream(model):
    pytest.importorskip('pytorch_grad_cam')
    inputs = _inputs(model)
    maps, classes = grad_cam_maps(model, inputs)
    assert maps.shape == (1, 3, 64, 32)
    assert ((maps >= 0) & (maps <= 1)).all()
    with torch.no_grad():
        logits = model.head(model.extract_feat(inputs))
    assert classes.tolist() == logits.sum((1, 2)).argmax(1).tolist()
    # Another input gives other maps.
    other, _ = grad_cam_maps(model, _inputs(model, seed=1))
    assert not np.allclose(maps, other)


def test_shared_vit_stream_gives_one_attention_map_per_modality():
    """The DeMo demo model runs one ViT for all modalities: its last
    layer's class-token attention over the 8 x 4 patch grid of a 64 x 32
    input, once per modality (the attention to the class token itself left
    out, so each map sums to less than 1); the camera ids come from the data
    samples."""
    from mmpretrain.structures import DataSample
    cfg = Config.fromfile(
        str(DEMO.parents[1] / 'demo' /
            'demo_vit-tiny_1xb32-20e_synthetic-demo.py'))
    init_default_scope('mmieee')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    inputs = torch.randn(2, 3, 3, 64, 32)
    samples = [DataSample(metainfo=dict(camid=c)) for c in (0, 3)]
    with torch.no_grad():
        maps = stream_activation_maps(model, inputs, samples)
    assert [tuple(m.shape) for m in maps] == [(2, 8, 4)] * 3
    for amap in maps:
        total = amap.sum(dim=(1, 2))
        assert bool((amap >= 0).all()) and bool((total < 1).all())
    assert not torch.allclose(maps[0], maps[1])
    with pytest.raises(ValueError, match='needs each sample\'s "camid"'):
        stream_activation_maps(model, inputs)
