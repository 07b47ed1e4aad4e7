# Copyright (c) mmieee contributors.
import pytest
from mmengine.registry import DefaultScope

from mmieee.registry import MODELS, TRANSFORMS


def test_scoped_build_of_mmpretrain_module():
    """`mmpretrain.ResNet` resolves from mmieee's child registry."""
    with DefaultScope.overwrite_default_scope('mmieee'):
        model = MODELS.build(
            dict(type='mmpretrain.ResNet', depth=18, out_indices=(3, )))
    assert type(model).__name__ == 'ResNet'


def test_unknown_type_names_registry_and_type():
    with DefaultScope.overwrite_default_scope('mmieee'):
        with pytest.raises(KeyError, match='NoSuchModel'):
            MODELS.build(dict(type='NoSuchModel'))


def test_registries_are_children_of_mmengine():
    assert MODELS.scope == 'mmieee'
    assert MODELS.parent is not None and MODELS.parent.scope == 'mmengine'
    assert TRANSFORMS.parent.scope == 'mmengine'
