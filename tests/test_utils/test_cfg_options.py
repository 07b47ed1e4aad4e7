# Copyright (c) mmieee contributors.
"""merge_cfg_options: misspelt top-level keys are refused, others merged."""
import pytest
from mmengine.config import Config

from mmieee.utils import ConfigError, merge_cfg_options


def _cfg():
    return Config(
        dict(train_cfg=dict(max_epochs=61), model=dict(type='X', a=1)))


def test_known_keys_are_merged():
    cfg = merge_cfg_options(
        _cfg(), {
            'train_cfg.max_epochs': 2,
            'model.b': 3,
            'resume': True,  # a Runner argument absent from the config
            'model_wrapper_cfg.find_unused_parameters': True
        })
    assert cfg.train_cfg.max_epochs == 2
    assert cfg.model == dict(type='X', a=1, b=3)
    assert cfg.resume is True
    assert cfg.model_wrapper_cfg == dict(find_unused_parameters=True)


def test_none_or_empty_options_change_nothing():
    cfg = _cfg()
    assert merge_cfg_options(cfg, None) is cfg
    assert merge_cfg_options(cfg, {}).train_cfg.max_epochs == 61


def test_misspelt_top_level_key_is_refused_with_suggestion():
    cfg = _cfg()
    with pytest.raises(ConfigError) as info:
        merge_cfg_options(cfg, {'trian_cfg.max_epochs': 2})
    msg = info.value.args[0]
    assert "'trian_cfg' is not a key of the config" in msg
    assert 'Did you mean train_cfg' in msg
    assert 'trian_cfg' not in cfg  # nothing merged


@pytest.mark.parametrize('key,value,want', [
    ('train_cfg.max_epochs', 'abc', 'an integer'),
    ('train_cfg.max_epochs', 2.5, 'an integer'),
    ('optim_wrapper.optimizer.lr', 'abc', 'a number'),
    ('randomness.seed', 'abc', 'an integer'),
    ('randomness.deterministic', 1, 'True or False'),
])
def test_value_of_the_wrong_type_is_refused_naming_the_key(key, value, want):
    cfg = Config(
        dict(train_cfg=dict(max_epochs=61),
             optim_wrapper=dict(optimizer=dict(lr=1e-3)),
             randomness=dict(seed=0, deterministic=False)))
    with pytest.raises(ConfigError, match=rf'--cfg-options {key}=.*must be '
                       f'{want}'):
        merge_cfg_options(cfg, {key: value})


def test_numbers_replace_numbers_and_unset_keys_take_anything():
    cfg = Config(dict(optim_wrapper=dict(optimizer=dict(lr=1e-3)),
                      randomness=dict(seed=None)))
    merge_cfg_options(cfg, {'optim_wrapper.optimizer.lr': 1,
                            'randomness.seed': 'abc'})
    assert cfg.optim_wrapper.optimizer.lr == 1
    assert cfg.randomness.seed == 'abc'
