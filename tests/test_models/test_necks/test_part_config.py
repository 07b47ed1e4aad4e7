# Copyright (c) mmieee contributors.
"""fill_part_config: a neck's sizes go into its parts' configs once."""
import pytest

from mmieee.models.necks.part_config import fill_part_config
from mmieee.registry import MODELS


def test_sizes_are_filled_in_and_the_config_is_copied():
    cfg = dict(type='HDM', num_heads=8)
    filled = fill_part_config(cfg, 'DeMoNeck', 'hdm', embed_dims=512)
    assert filled == dict(type='HDM', num_heads=8, embed_dims=512)
    assert cfg == dict(type='HDM', num_heads=8)  # the caller's is untouched
    # the same value stated twice is no contradiction
    assert fill_part_config(filled, 'DeMoNeck', 'hdm',
                            embed_dims=512) == filled


def test_a_contradicting_size_names_the_neck_the_part_and_both_values():
    with pytest.raises(ValueError, match=r'^DeMoNeck: hdm.embed_dims=256 '
                       r'contradicts the neck \(embed_dims=512\)$'):
        fill_part_config(dict(embed_dims=256), 'DeMoNeck', 'hdm',
                         embed_dims=512)


def test_a_neck_refuses_a_part_that_contradicts_it():
    with pytest.raises(ValueError, match=r'IEEENeck: rem.channels=32 '
                       r'contradicts the neck \(channels=64\)'):
        MODELS.build(dict(type='IEEENeck', num_modalities=3, in_channels=128,
                          reduce_channels=64, out_channels=16,
                          rem=dict(type='RelationEmbedding', channels=32)))
