# Copyright (c) mmieee contributors.
"""check_config: values that would fail late or silently are refused with
the key named; the P x K sampler takes its dataloader's batch size."""
import pytest
from mmengine.config import Config

from mmieee.utils import ConfigError, check_config, check_pretrained_files


def _cfg(**train_loader):
    loader = dict(
        batch_size=8,
        sampler=dict(type='IdentityBalancedSampler', num_instances=4))
    loader.update(train_loader)
    return Config(dict(train_cfg=dict(max_epochs=61, val_interval=1),
                       train_dataloader=loader))


def test_sampler_takes_the_dataloader_batch_size():
    cfg = _cfg()
    check_config(cfg)
    assert cfg.train_dataloader.sampler.batch_size == 8


def test_sampler_batch_size_equal_to_the_loader_is_accepted():
    cfg = _cfg(sampler=dict(type='mmieee.IdentityBalancedSampler',
                            num_instances=4, batch_size=8))
    check_config(cfg)


def test_unequal_sampler_batch_size_is_refused_naming_both():
    cfg = _cfg(batch_size=6, sampler=dict(
        type='IdentityBalancedSampler', num_instances=2, batch_size=8))
    with pytest.raises(ConfigError, match=r'train_dataloader.sampler.'
                       r'batch_size=8 differs from train_dataloader.'
                       r'batch_size=6'):
        check_config(cfg)


def test_other_samplers_are_left_alone():
    cfg = _cfg(sampler=dict(type='DefaultSampler', shuffle=True))
    check_config(cfg)
    assert 'batch_size' not in cfg.train_dataloader.sampler


@pytest.mark.parametrize('key,value', [('max_epochs', 0),
                                       ('max_epochs', -3),
                                       ('val_interval', 0),
                                       ('max_epochs', 2.0)])
def test_schedule_values_below_one_are_refused(key, value):
    cfg = _cfg()
    cfg.train_cfg[key] = value
    with pytest.raises(ConfigError,
                       match=rf'train_cfg.{key} must be an integer >= 1, '
                       rf'got {value!r}'):
        check_config(cfg)


def test_batch_size_zero_is_refused():
    with pytest.raises(ConfigError, match='train_dataloader.batch_size'):
        check_config(_cfg(batch_size=0))


@pytest.mark.parametrize('mods', [('TI', 'NI', 'RGB'), ('RGB', 'NI')])
def test_dataset_modalities_other_than_the_model_are_refused(mods):
    cfg = _cfg()
    cfg.model = dict(modalities=('RGB', 'NI', 'TI'))
    cfg.test_dataloader = dict(batch_size=4, dataset=dict(modalities=mods))
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    msg = str(err.value)
    assert f'test_dataloader.dataset.modalities={mods}' in msg
    assert "model.modalities=('RGB', 'NI', 'TI')" in msg


def test_same_modalities_and_unstated_ones_pass():
    cfg = _cfg()
    cfg.model = dict(modalities=('RGB', 'TI'))
    cfg.train_dataloader.dataset = dict(modalities=['RGB', 'TI'])
    cfg.test_dataloader = dict(batch_size=4, dataset=dict(type='X'))
    check_config(cfg)


def test_missing_local_pretrained_files_are_named(tmp_path):
    """Every init_cfg with a local checkpoint, nested or in a list; URLs
    and scheme names are left to their loaders."""
    present = tmp_path / 'vit.pth'
    present.write_bytes(b'x')
    cfg = Config(dict(model=dict(
        backbone=dict(
            init_cfg=dict(type='TimmViTPretrained', checkpoint=str(present)),
            backbone=dict(init_cfg=[
                dict(type='Normal'),
                dict(type='Pretrained', checkpoint='torchvision://resnet50')
            ])),
        neck=dict(init_cfg=None))))
    check_pretrained_files(cfg)
    cfg.model.backbone.init_cfg.checkpoint = 'pretrained/missing.pth'
    with pytest.raises(ConfigError,
                       match=r"^model.backbone.init_cfg.checkpoint="
                       r"'pretrained/missing.pth': .*docs/topreid.md"):
        check_pretrained_files(cfg)
    cfg.model.backbone.init_cfg.type = 'CLIPVisualPretrained'
    with pytest.raises(ConfigError,
                       match=r"^model.backbone.init_cfg.checkpoint="
                       r"'pretrained/missing.pth': .*docs/demo.md, "
                       r'"Pretrained weights"'):
        check_pretrained_files(cfg)
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.backbone.init_cfg[1].checkpoint = 'no/file.pth'
    with pytest.raises(ConfigError,
                       match=r"model.backbone.backbone.init_cfg.checkpoint="
                       r"'no/file.pth'.*put the file there"):
        check_pretrained_files(cfg)
