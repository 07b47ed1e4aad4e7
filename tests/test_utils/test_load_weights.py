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


def test_other_sizes_are_refused_listing_keys_and_counts(tmp_path):
    src = MODELS.build(tiny_cfg(num_classes=6))
    path = _save(src, tmp_path / 'a.pth', src.modalities)
    with pytest.raises(CheckpointMismatchError) as err:
        load_model_weights(MODELS.build(tiny_cfg(num_classes=4)), path)
    msg = str(err.value)
    # 3 modalities x 2 parts classifiers, weight and bias each
    assert '12 keys with another shape' in msg
    assert 'head.classifiers.0.0.weight (checkpoint (6, 8), model (4, 8))' \
        in msg and '(7 more)' in msg
    assert str(path) in msg and '--non-strict' in msg


def test_checkpoint_with_no_matching_key_is_refused(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'fc.weight': torch.zeros(2, 2)}), path)
    model = MODELS.build(tiny_cfg())
    n = len(model.state_dict())
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
    src = MODELS.build(tiny_cfg(num_classes=6))
    path = _save(src, tmp_path / 'a.pth', src.modalities)
    cfg = Config(dict(model=tiny_cfg(num_classes=4), default_scope='mmieee'))
    with pytest.raises(CheckpointMismatchError):
        init_model(cfg, path)
    model = init_model(cfg, path, strict=False)
    assert not model.training
