# Copyright (c) mmieee contributors.
"""Config values the tools check (or derive) before anything is built.

mmengine accepts these and fails much later, or never: ``max_epochs=0``
"trains" nothing and exits 0, a sampler whose batch size differs from its
dataloader's silently breaks the P x K batches the metric losses need, a
dataset loading modalities in another order than the model feeds each stream
the wrong images.
:func:`check_config` runs in :func:`~.tool_setup.load_tool_config`, i.e. in
every tool, after the command-line options are merged;
:func:`check_pretrained_files` only where weights are initialised
(training), since testing loads a checkpoint instead.
"""
import os.path as osp

from mmengine.config import Config

from .data_check import DATALOADER_KEYS, iter_dataset_cfgs
from .errors import ConfigError

#: Samplers that build P x K batches and so must know the batch size.
PK_SAMPLERS = ('IdentityBalancedSampler', )


def _positive_int(cfg: Config, section: str, key: str) -> None:
    value = (cfg.get(section) or {}).get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f'{section}.{key} must be an integer >= 1, got '
                          f'{value!r}')


def fill_sampler_batch_size(cfg: Config) -> None:
    """Give each P x K sampler its dataloader's batch size.

    The batch size is stated once, as ``<loader>.batch_size``; a sampler
    that states its own must agree.

    Raises:
        ConfigError: The two differ (both keys and values are named).
    """
    for key in DATALOADER_KEYS:
        loader = cfg.get(key)
        if not loader or not isinstance(loader.get('sampler'), dict):
            continue
        sampler = loader['sampler']
        if str(sampler.get('type')).split('.')[-1] not in PK_SAMPLERS:
            continue
        batch = loader.get('batch_size')
        if sampler.get('batch_size') is None:
            sampler['batch_size'] = batch
        elif sampler['batch_size'] != batch:
            raise ConfigError(
                f'{key}.sampler.batch_size={sampler["batch_size"]} differs '
                f'from {key}.batch_size={batch}: the batches would not be '
                f'P x K. State the batch size once, as {key}.batch_size (the '
                'sampler takes it from there).')


def check_modalities(cfg: Config) -> None:
    """Datasets that state ``modalities`` must state the model's, in order.

    (Datasets that state none load all of their layout's modalities; the
    model checks those on the first batch.)

    Raises:
        ConfigError: Naming both keys and both orders.
    """
    want = (cfg.get('model') or {}).get('modalities')
    if want is None:
        return
    for name, ds in iter_dataset_cfgs(cfg):
        have = ds.get('modalities')
        if have is not None and tuple(have) != tuple(want):
            raise ConfigError(
                f'{name}.modalities={tuple(have)} differs from '
                f'model.modalities={tuple(want)}: each model stream only '
                'works on the modality it was built for, so the dataset must '
                'load the same modalities in the same order.')


def check_config(cfg: Config) -> None:
    """Refuse values that would fail late or silently; fill derived ones.

    Args:
        cfg (Config): The merged config (changed in place).

    Raises:
        ConfigError: Naming the key and the value.
    """
    for key in ('max_epochs', 'max_iters', 'val_interval'):
        _positive_int(cfg, 'train_cfg', key)
    for key in DATALOADER_KEYS:
        _positive_int(cfg, key, 'batch_size')
    fill_sampler_batch_size(cfg)
    check_modalities(cfg)


#: Where the docs say each weight-loading initializer's file goes.
_PRETRAINED_DOCS = {
    'TimmViTPretrained': 'docs/topreid.md, "ImageNet weights"',
    'CLIPVisualPretrained': 'docs/demo.md, "Pretrained weights"',
}


def _init_cfgs(node, path: str):
    """``(dotted key, init_cfg dict)`` of every ``init_cfg`` under ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f'{path}.{key}'
            if key == 'init_cfg':
                for cfg in value if isinstance(value, (list, tuple)) \
                        else [value]:
                    if isinstance(cfg, dict):
                        yield where, cfg
            else:
                yield from _init_cfgs(value, where)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _init_cfgs(value, f'{path}.{i}')


def check_pretrained_files(cfg: Config) -> None:
    """Refuse, before training starts, an ``init_cfg`` whose local
    ``checkpoint`` file does not exist (URLs and ``scheme://`` names are
    downloaded by their loader and not checked here).

    Args:
        cfg (Config): The merged config.

    Raises:
        ConfigError: Naming the key, the file and where it goes.
    """
    for key, init_cfg in _init_cfgs(cfg.get('model', {}), 'model'):
        path = init_cfg.get('checkpoint')
        if not isinstance(path, str) or '://' in path or osp.isfile(
                osp.expanduser(path)):
            continue
        docs = _PRETRAINED_DOCS.get(init_cfg.get('type'))
        where = f'see {docs}' if docs else 'put the file there'
        raise ConfigError(
            f'{key}.checkpoint={path!r}: the pretrained weights file does not '
            f'exist ({where}); or set {key}=None to train from scratch')
