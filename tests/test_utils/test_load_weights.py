# Copyright (c) mmieee contributors.
"""load_model_weights: every key, every shape, the same modalities, or an
error listing what does not fit (and init_model uses it)."""
import copy
import importlib.util
from pathlib import Path

import pytest
import torch

from mmieee.registry import MODELS
from mmieee.utils import CheckpointMismatchError, load_model_weights

_SPEC = importlib.util.spec_from_file_location(
    'reid_model_tests',
    Path(__file__).resolve().parents[1] / 'test_models' / 'test_reid' /
    'test_multi_modal_reid.py')
_MOD = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MOD)
tiny_cfg = _MOD.tiny_cfg


def _save(model, path, modalities=None):
    meta = dict(epoch=1)
    if modalities is not None:
        meta['modalities'] = list(modalities)
    torch.save(dict(meta=meta, state_dict=model.state_dict()), path)
    return str(path)


def test_matching_checkpoint_loads_every_tensor(tmp_path):
    src = MODELS.build(tiny_cfg())
    dst = MODELS.build(tiny_cfg())
    path = _save(src, tmp_path / 'a.pth', src.modalities)
    load_model_weights(dst, path)
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key


def _other_neck(**kwargs):
    """The tiny model with a narrower neck (its keys enter the feature)."""
    cfg = tiny_cfg(**kwargs)
    cfg['neck'] = dict(cfg['neck'], reduce_channels=8)
    return cfg


def test_other_sizes_are_refused_listing_keys_and_counts(tmp_path):
    src = MODELS.build(tiny_cfg())
    path = _save(src, tmp_path / 'a.pth', src.modalities)
    with pytest.raises(CheckpointMismatchError) as err:
        load_model_weights(MODELS.build(_other_neck()), path)
    msg = str(err.value)
    first = msg.splitlines()[0]
    # the advice comes first, the listing after it
    assert str(path) in first and 'use the config the checkpoint was ' \
        'trained with, or strict=False' in first
    assert 'keys with another shape: neck.' in msg
    assert 'neck.reduce_layers.0.conv.weight (checkpoint (16, 128, 1, 1), ' \
        'model (8, 128, 1, 1))' in msg and 'more)' in msg
    assert 'head.' not in msg


def test_opt_out_is_named_only_when_the_caller_has_one(tmp_path):
    src = MODELS.build(tiny_cfg())
    path = _save(src, tmp_path / 'a.pth', src.modalities)
    for opt_out, expected in (('--non-strict', 'or --non-strict to load'),
                              (None, 'trained with):')):
        with pytest.raises(CheckpointMismatchError) as err:
            load_model_weights(MODELS.build(_other_neck()), path,
                               opt_out=opt_out)
        assert expected in str(err.value)
        if opt_out is None:
            assert 'strict' not in str(err.value)


def _predict(model, inputs):
    model.eval()
    with torch.no_grad():
        return torch.stack([
            s.pred_feature for s in model(inputs, None, mode='predict')
        ])


def test_training_classifiers_of_another_size_are_reported_and_skipped(
        tmp_path, monkeypatch):
    """Another number of training identities (cross-dataset evaluation):
    only the head differs; it takes no part in the test feature."""
    logged = []
    monkeypatch.setattr('mmieee.utils.load_weights.print_log',
                        lambda msg, **kw: logged.append(msg))
    src = MODELS.build(tiny_cfg(num_classes=6))
    path = _save(src, tmp_path / 'a.pth', src.modalities)
    dst = MODELS.build(tiny_cfg(num_classes=4))
    kept = copy.deepcopy(dst.head.state_dict())
    load_model_weights(dst, path)
    assert len(logged) == 1 and '\n' not in logged[0]
    # 3 modalities x 2 parts classifiers, weight and bias each
    assert 'training-only keys differ (12 mismatched' in logged[0]
    assert 'head.classifiers.0.0.weight' in logged[0]
    for key, value in src.state_dict().items():
        if not key.startswith('head.'):
            assert torch.equal(dst.state_dict()[key], value), key
    for key, value in kept.items():
        assert torch.equal(dst.head.state_dict()[key], value), key
    inputs = torch.randn(2, 3, 3, 64, 32)
    assert torch.equal(_predict(dst, inputs), _predict(src, inputs))
    # publishing wants every key
    with pytest.raises(CheckpointMismatchError, match='head.classifiers'):
        load_model_weights(MODELS.build(tiny_cfg(num_classes=4)), path,
                           relax_training_only=False)


def test_training_only_prefixes_come_from_the_modules():
    from mmieee.utils.load_weights import training_only_prefixes
    model = MODELS.build(tiny_cfg())
    assert training_only_prefixes(model) == (
        'head.classifiers.', 'head.metric_losses.', 'head.loss_ce.')
    keys = [k for k in model.state_dict()
            if k.startswith(training_only_prefixes(model))]
    assert keys and all(k.startswith('head.') for k in keys)


def test_checkpoint_with_no_matching_key_is_refused(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'fc.weight': torch.zeros(2, 2)}), path)
    model = MODELS.build(tiny_cfg())
    # the training-only head keys are reported apart
    n = len([k for k in model.state_dict() if not k.startswith('head.')])
    with pytest.raises(CheckpointMismatchError) as err:
        load_model_weights(model, str(path))
    msg = str(err.value)
    assert f'{n} model keys missing from the checkpoint' in msg
    assert '1 checkpoint keys the model does not have: fc.weight' in msg


def test_three_modality_checkpoint_into_two_modality_model(tmp_path):
    src = MODELS.build(tiny_cfg(num_modalities=3))
    path = _save(src, tmp_path / 'a.pth', src.modalities)
    dst = MODELS.build(tiny_cfg(num_modalities=2))
    with pytest.raises(CheckpointMismatchError) as err:
        load_model_weights(dst, path)
    msg = str(err.value)
    assert "trained on modalities ['RGB', 'NI', 'TI']" in msg
    assert "the model has ['RGB', 'TI']" in msg
    assert 'checkpoint keys the model does not have' in msg


def test_same_shapes_other_modality_order_is_refused(tmp_path):
    src = MODELS.build(tiny_cfg())
    path = _save(src, tmp_path / 'a.pth', ('TI', 'NI', 'RGB'))
    with pytest.raises(CheckpointMismatchError, match=r"trained on "
                       r"modalities \['TI', 'NI', 'RGB'\]"):
        load_model_weights(MODELS.build(tiny_cfg()), path)


def test_non_strict_loads_what_fits_and_keeps_the_rest(tmp_path):
    src = MODELS.build(tiny_cfg(num_classes=6))
    path = _save(src, tmp_path / 'a.pth', src.modalities)
    dst = MODELS.build(tiny_cfg(num_classes=4))
    kept = copy.deepcopy(dst.head.state_dict())
    load_model_weights(dst, path, strict=False)
    assert torch.equal(dst.backbone.streams[0].conv1.weight,
                       src.backbone.streams[0].conv1.weight)
    for key, value in kept.items():
        assert torch.equal(dst.head.state_dict()[key], value), key


def test_init_model_is_strict_by_default(tmp_path):
    from mmengine.config import Config

    from mmieee.apis import init_model
    src = MODELS.build(tiny_cfg())
    path = _save(src, tmp_path / 'a.pth', src.modalities)
    cfg = Config(dict(model=_other_neck(), default_scope='mmieee'))
    with pytest.raises(CheckpointMismatchError):
        init_model(cfg, path)
    model = init_model(cfg, path, strict=False)
    assert not model.training
