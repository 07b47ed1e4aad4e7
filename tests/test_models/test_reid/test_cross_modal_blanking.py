# Copyright (c) mmieee contributors.
"""MultiModalReID's cross-modal protocol: query and gallery features blank
different modalities, each side only what it says."""
import pytest
import torch
from mmpretrain.structures import DataSample

import mmieee  # noqa: F401
from mmieee.registry import MODELS

STREAM = dict(
    type='mmpretrain.ResNet',
    depth=18,
    stem_channels=8,
    base_channels=8,
    strides=(1, 2, 2, 1),
    out_indices=(3, ))


def tiny(test_cfg=None):
    return MODELS.build(
        dict(
            type='MultiModalReID',
            modalities=('RGB', 'NI', 'TI'),
            backbone=dict(type='MultiStreamBackbone', backbone=STREAM),
            neck=dict(type='IEEENeck', in_channels=64, reduce_channels=16,
                      out_channels=8, num_parts=2),
            head=dict(type='IEEEHead', num_classes=3, num_parts=2,
                      in_channels=8),
            test_cfg=test_cfg)).eval()


class _Recorder(torch.nn.Module):
    """Wraps the backbone and keeps every batch it is given."""

    def __init__(self, backbone):
        super().__init__()
        self.inner = backbone
        self.seen = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.inner(x)


def _batch():
    torch.manual_seed(1)
    inputs = torch.randn(4, 3, 3, 32, 16)
    return inputs, [DataSample() for _ in range(4)]


def test_each_side_blanks_only_what_it_says():
    """RGB queries against a TI gallery: the query pass zeroes NI and TI
    and keeps RGB; the gallery pass zeroes RGB and NI and keeps TI."""
    model = tiny(dict(query_blank_modalities=['NI', 'TI'],
                      gallery_blank_modalities=['RGB', 'NI']))
    assert (model.query_blank_indices, model.gallery_blank_indices) == \
        ([1, 2], [0, 1])
    model.backbone = _Recorder(model.backbone)
    inputs, samples = _batch()
    with torch.no_grad():
        out = model(inputs, samples, mode='predict')
    query_seen, gallery_seen = model.backbone.seen
    for seen, kept in ((query_seen, 0), (gallery_seen, 2)):
        for m in range(3):
            if m == kept:
                torch.testing.assert_close(seen[:, m], inputs[:, m])
            else:
                assert torch.count_nonzero(seen[:, m]) == 0
    assert torch.count_nonzero(inputs) == inputs.numel()  # caller untouched

    # each feature is the one-sided model's feature of its blanking
    model.backbone = model.backbone.inner
    with torch.no_grad():
        model.set_blank_modalities(['NI', 'TI'])
        query = model(inputs, mode='tensor')
        model.set_blank_modalities(['RGB', 'NI'])
        gallery = model(inputs, mode='tensor')
    for i, sample in enumerate(out):
        torch.testing.assert_close(sample.pred_feature, query[i])
        torch.testing.assert_close(sample.pred_gallery_feature, gallery[i])
    assert not torch.allclose(query, gallery)


def test_one_side_only_and_switching_back():
    model = tiny()
    inputs, samples = _batch()
    with torch.no_grad():
        full = model(inputs, mode='tensor')
        model.set_blank_modalities(query=['TI'])  # gallery keeps all
        out = model(inputs, samples, mode='predict')
        assert model.test_cfg == dict(blank_modalities=[],
                                      query_blank_modalities=['TI'],
                                      gallery_blank_modalities=[],
                                      missing_modalities=[])
        torch.testing.assert_close(
            torch.stack([s.pred_gallery_feature for s in out]), full)
        model.set_blank_modalities(())
        back = model(inputs, [DataSample() for _ in range(4)],
                     mode='predict')
    assert model.query_blank_indices is None
    assert 'pred_gallery_feature' not in back[0]
    torch.testing.assert_close(
        torch.stack([s.pred_feature for s in back]), full)


def test_errors():
    with pytest.raises(ValueError, match='either the one for both sides'):
        tiny(dict(blank_modalities=['NI'], query_blank_modalities=['TI']))
    with pytest.raises(ValueError, match="'IR'"):
        tiny(dict(gallery_blank_modalities=['IR']))
    model = tiny(dict(query_blank_modalities=['NI']))
    with pytest.raises(ValueError, match="'tensor' mode gives one feature"):
        model(torch.zeros(1, 3, 3, 32, 16), mode='tensor')
