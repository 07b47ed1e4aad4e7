# Copyright (c) mmieee contributors.
"""Turn a training checkpoint into a file to publish.

    python tools/model_converters/publish_model.py IN OUT [--config CONFIG]

* drops what only resuming needs: ``optimizer``, ``param_schedulers`` and
  ``message_hub`` (about half the file for SGD with momentum);
* records in ``meta``: ``config`` (the config name, e.g.
  ``ieee_r18_1xb16-8e_synthetic-demo``, usable as a model name of
  configs/*/metafile.yml) and ``modalities`` (the model's input order); the
  config text ``meta['cfg']`` is kept;
* checks that the weights load **strictly** into the config's model (no
  missing, unexpected or mis-shaped key), so what is published loads;
* writes ``OUT`` renamed to ``<OUT stem>-<first 8 hex digits of its
  sha256>.pth`` (the OpenMMLab convention, as mmpretrain's
  publish_model.py; a user checks a download with ``sha256sum``).

The config is ``--config`` (file or model name) or else the text the Runner
stored in ``meta['cfg']``; its name then comes from ``meta['experiment_name']``
(``<config name>_<YYYYMMDD_HHMMSS>``).
"""
import argparse
import hashlib
import os
import os.path as osp
import re

import mmieee  # noqa: F401 isort:skip (shims before mmpretrain loads)
import torch
from mmengine.config import Config

from mmieee.apis import init_model
from mmieee.apis.model_index import resolve_model
from mmieee.utils import ConfigError, exit_on_user_error, load_from_local

#: Checkpoint entries only resuming needs.
DROPPED_KEYS = ('optimizer', 'param_schedulers', 'message_hub')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Strip a training checkpoint for publishing.')
    parser.add_argument('in_file', help='training checkpoint')
    parser.add_argument(
        'out_file', help='output path; the sha256 prefix is appended')
    parser.add_argument(
        '--config',
        help='config file or model name (default: the config text stored '
        'in the checkpoint)')
    return parser.parse_args(argv)


def config_of(checkpoint: dict, config_arg: str = None):
    """``(Config, config name)`` of a checkpoint (module docstring)."""
    meta = checkpoint.get('meta') or {}
    if config_arg is not None:
        try:
            path, _ = resolve_model(config_arg, 'unused')
        except ValueError as err:
            raise ConfigError(str(err)) from err
        if not osp.isfile(str(path)):
            raise ConfigError(f'config file {config_arg!r} does not exist')
        return Config.fromfile(str(path)), \
            osp.splitext(osp.basename(str(path)))[0]
    if 'cfg' not in meta:
        raise ConfigError('the checkpoint stores no config (meta["cfg"]); '
                          'give it with --config')
    cfg = Config.fromstring(meta['cfg'], file_format='.py')
    experiment = meta.get('experiment_name', '')
    name = re.sub(r'_\d{8}_\d{6}$', '', experiment)
    if not name:
        raise ConfigError('the checkpoint has no meta["experiment_name"] to '
                          'name its config; give it with --config')
    return cfg, name


def publish(in_file: str, out_file: str, config: str = None) -> str:
    """Strip, annotate, check and save; returns the final file name."""
    if not osp.isfile(in_file):
        raise ConfigError(f'checkpoint {in_file!r} does not exist')
    checkpoint = load_from_local(in_file, map_location='cpu')
    if 'state_dict' not in checkpoint:  # a bare state dict
        checkpoint = dict(state_dict=checkpoint)
    for key in DROPPED_KEYS:
        checkpoint.pop(key, None)
    cfg, name = config_of(checkpoint, config)
    # The strict loading of evaluation: every key and shape, the same
    # modalities, or an error listing what does not fit.
    model = init_model(cfg, in_file, strict=True)
    modalities = list(model.modalities)
    meta = dict(checkpoint.get('meta') or {})
    state_dict = model.state_dict()
    meta.update(config=name, modalities=modalities)
    checkpoint['meta'] = meta
    checkpoint['state_dict'] = state_dict
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    os.makedirs(osp.dirname(osp.abspath(stem)), exist_ok=True)
    tmp = f'{stem}.tmp.pth'
    torch.save(checkpoint, tmp)
    digest = hashlib.sha256()
    with open(tmp, 'rb') as f:
        for block in iter(lambda: f.read(1 << 22), b''):
            digest.update(block)
    final = f'{stem}-{digest.hexdigest()[:8]}.pth'
    os.replace(tmp, final)
    return final


def main(argv=None) -> str:
    args = parse_args(argv)
    with exit_on_user_error():
        final = publish(args.in_file, args.out_file, args.config)
    size_in, size_out = osp.getsize(args.in_file), osp.getsize(final)
    print(f'published {final} ({size_out / 2**20:.1f} MiB, from '
          f'{size_in / 2**20:.1f} MiB)')
    return final


if __name__ == '__main__':
    main()
