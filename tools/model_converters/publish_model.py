# Copyright (c) mmieee contributors.
"""Turn a training checkpoint into a file to publish.

    python tools/model_converters/publish_model.py IN OUT [--config CONFIG]

* refuses what is not worth publishing: a file without model weights (an
  optimizer-only or resume-only file), weights holding NaN or inf (a
  diverged training), weights that do not load **strictly** into the
  config's model (every key and shape, training classifiers included, the
  same modalities), so what is published loads;
* drops what only resuming needs: ``optimizer``, ``param_schedulers`` and
  ``message_hub`` (about half the file for SGD with momentum);
* records in ``meta``: ``config`` (the config name, e.g.
  ``ieee_r18_1xb16-8e_synthetic-demo``, usable as a model name of
  configs/*/metafile.yml), ``modalities`` (the model's input order) and
  ``cfg``, the text of the config used for the check;
* writes ``OUT`` renamed to ``<OUT stem>-<first 8 hex digits of its
  sha256>.pth`` (the OpenMMLab convention, as mmpretrain's
  publish_model.py; a user checks a download with ``sha256sum``).

The config is ``--config`` (file or model name) or else the text the Runner
stored in ``meta['cfg']``, *parsed* (never run: a checkpoint is data, see
:func:`mmieee.utils.parse_config_text`); its name then comes from
``meta['experiment_name']`` (``<config name>_<YYYYMMDD_HHMMSS>``).
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
from mmieee.utils import (CONFIG_HELP, ConfigError, NotACheckpointError,
                          check_output_file, exit_on_user_error,
                          load_from_local, load_model_weights,
                          load_tool_config, parse_config_text, resolve_config,
                          writing)
from mmieee.utils.errors import format_listing

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
        help=f'{CONFIG_HELP} (default: the config text stored in the '
        'checkpoint, parsed without running it)')
    return parser.parse_args(argv)


def model_state(checkpoint: dict, in_file: str) -> dict:
    """The checkpoint's state dict, refusing a file that holds none.

    Raises:
        NotACheckpointError: No ``state_dict`` of tensors (e.g. an
            optimizer-only file); the message names the file and its keys.
    """
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        keys = format_listing(sorted(map(str, checkpoint)))
        raise NotACheckpointError(
            f'{in_file} holds no model weights (its entries: {keys}): give '
            'a checkpoint with a "state_dict" of tensors, as tools/train.py '
            'writes it')
    return state


def check_finite(state: dict, in_file: str) -> None:
    """Refuse weights holding NaN or inf (naming the first keys)."""
    bad = [k for k, v in state.items()
           if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ConfigError(
            f'{in_file}: {len(bad)} weights hold NaN or inf '
            f'({format_listing(bad)}); '
            'the training diverged before this checkpoint. Publish an '
            'earlier one.')


def config_of(checkpoint: dict, in_file: str, config_arg: str = None):
    """``(Config, config name)`` of a checkpoint (module docstring)."""
    meta = checkpoint.get('meta') or {}
    if config_arg is not None:
        path = resolve_config(config_arg)
        cfg = load_tool_config(path, data_keys=())
        return cfg, osp.splitext(osp.basename(path))[0]
    if 'cfg' not in meta:
        raise ConfigError(f'{in_file} stores no config (meta["cfg"]); give '
                          'it with --config')
    cfg = parse_config_text(
        meta['cfg'], f"the config stored in {in_file} (meta['cfg'])",
        hint='Give the config with --config.')
    if not cfg.get('model'):
        raise ConfigError(f"the config stored in {in_file} has no 'model'; "
                          'give the config with --config')
    name = re.sub(r'_\d{8}_\d{6}$', '', str(meta.get('experiment_name', '')))
    if not name:
        raise ConfigError(f'{in_file} has no meta["experiment_name"] to '
                          'name its config; give it with --config')
    return cfg, name


def publish(in_file: str, out_file: str, config: str = None) -> str:
    """Check, strip, annotate and save; returns the final file name."""
    if not osp.isfile(in_file):
        raise ConfigError(f'checkpoint {in_file!r} does not exist')
    check_output_file(out_file, 'OUT')
    checkpoint = load_from_local(in_file, map_location='cpu')
    state = model_state(checkpoint, in_file)
    check_finite(state, in_file)
    if 'state_dict' not in checkpoint:  # a bare state dict
        checkpoint = dict(state_dict=state)
    for key in DROPPED_KEYS:
        checkpoint.pop(key, None)
    cfg, name = config_of(checkpoint, in_file, config)
    # Every key and shape, the training classifiers included, the same
    # modalities, or an error listing what does not fit.
    model = init_model(cfg)
    load_model_weights(model, in_file, relax_training_only=False,
                       opt_out=None)
    meta = dict(checkpoint.get('meta') or {})
    meta.update(config=name, modalities=list(model.modalities),
                cfg=Config(cfg.to_dict()).pretty_text)
    checkpoint['meta'] = meta
    checkpoint['state_dict'] = model.state_dict()
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    tmp = f'{stem}.tmp.pth'
    with writing(tmp):
        os.makedirs(osp.dirname(osp.abspath(stem)), exist_ok=True)
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
        try:
            final = publish(args.in_file, args.out_file, args.config)
        finally:
            stem = args.out_file[:-4] if args.out_file.endswith('.pth') \
                else args.out_file
            if osp.exists(f'{stem}.tmp.pth'):
                os.remove(f'{stem}.tmp.pth')
    size_in, size_out = osp.getsize(args.in_file), osp.getsize(final)
    print(f'published {final} ({size_out / 2**20:.1f} MiB, from '
          f'{size_in / 2**20:.1f} MiB)')
    return final


if __name__ == '__main__':
    main()
