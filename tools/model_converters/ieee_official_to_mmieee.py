# Copyright (c) mmieee contributors.
"""Convert a checkpoint of the official IEEE code to an mmieee checkpoint.

The official implementation (github ziwang1121/IEEE, torchreid-based model
``ieee3modalPart``) saves ``model.pth.tar-N`` files whose ``state_dict``
follows the official model's module names (three torchvision ResNet-50s
``backbone.{0,1,2}``, ``convOne`` / ``convAvgRest`` / ``CA`` for CIM,
``reduce_layer``, ``REM``, ``fc_{R,N,T}``, ``classifier_{R,N,T}``). This
tool renames every key to the ``official``-variant mmieee model (REM
``variant='official'``, docs/paper_to_code.md) so that it loads with no
missing or unexpected keys and computes the same test features (up to the
order of the modality blocks: the official code concatenates T, R, N; mmieee
keeps the dataset's R, N, T).

Usage::

    python tools/model_converters/ieee_official_to_mmieee.py \\
        model.pth.tar-60 ieee_official_rgbnt201.pth \\
        [--check-config configs/ieee/<official-variant config>.py]

Mapping (official → mmieee; i = stream index, 0 RGB / 1 NI / 2 TI; a
``Sequential(conv, bn)`` layer ``.layers.{0,1}`` becomes an mmcv ConvModule
``.conv`` / ``.bn``):

- ``backbone.{i}.<torchvision name>`` → ``backbone.streams.{i}.<same name>``
- ``convOne.{i}.layers.*`` → ``neck.cim.own_convs.{i}.{conv,bn}.*``
- ``convAvgRest.{i}.layers.*`` → ``neck.cim.other_convs.{i}.{conv,bn}.*``
- ``CA.{i}.fc.0.weight`` / ``CA.{i}.fc.2.weight`` →
  ``neck.cim.channel_attentions.{i}.reduce.conv.weight`` /
  ``neck.cim.channel_attentions.{i}.expand.conv.weight``
- ``reduce_layer.{i}.layers.*`` → ``neck.reduce_layers.{i}.{conv,bn}.*``
- ``REM.{i}.param`` → ``neck.rems.{i}.gamma``
- ``REM.{i}.conv_part.{weight,bias}`` → ``neck.rems.{i}.global_proj.*``
  (a Linear (C, C) weight; a 1×1 conv (C, C, 1, 1) weight is flattened)
- ``fc_{R,N,T}.{p}.{0,1}.*`` → ``neck.part_fcs.{0,1,2}.{p}.{0,1}.*``
- ``classifier_{R,N,T}.{p}.*`` → ``head.classifiers.{0,1,2}.{p}.*``

Dropped (listed by the tool): ``REM.{i}.conv_query.*`` and
``REM.{i}.conv_value.*`` (their softmax runs over a single element, so they
never affect the output) and a backbone ``fc`` (the ImageNet classifier the
official model never calls). Any other key is an error naming it, unless
``--allow-unknown`` (then it is dropped and listed too). Channel sizes are
taken from the tensors; nothing assumes ResNet-50 / 768 / 128 / 6 parts.
"""
import argparse
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

#: Official part-branch suffix → mmieee stream index.
MODALITY_INDEX = {'R': 0, 'N': 1, 'T': 2}

_PREFIX = 'module.'


class UnknownKeyError(KeyError):
    """A key of the official checkpoint that the converter cannot place."""

    def __str__(self) -> str:  # KeyError would print the repr
        return str(self.args[0])


def _conv_bn(name: str) -> Dict[str, str]:
    """Sequential(conv, bn) layer names → mmcv ConvModule names."""
    return {'0': f'{name}.conv', '1': f'{name}.bn'}


def _map_key(key: str, value: Tensor) -> Tuple[Optional[str], Tensor, str]:
    """Map one official key (without ``module.``).

    Returns:
        tuple: ``(new_key, new_value, reason)``; ``new_key`` is None when the
        key is dropped (``reason`` says why) and ``reason`` is ``'unknown'``
        for a key this function cannot classify.
    """
    m = re.fullmatch(r'backbone\.(\d+)\.(.+)', key)
    if m:
        idx, rest = m.groups()
        if re.fullmatch(r'fc\.(weight|bias)', rest):
            return None, value, 'unused ImageNet classifier of the backbone'
        return f'backbone.streams.{idx}.{rest}', value, ''

    m = re.fullmatch(r'(convOne|convAvgRest|reduce_layer)\.(\d+)\.layers\.'
                     r'([01])\.(.+)', key)
    if m:
        group, idx, layer, param = m.groups()
        target = {
            'convOne': f'neck.cim.own_convs.{idx}',
            'convAvgRest': f'neck.cim.other_convs.{idx}',
            'reduce_layer': f'neck.reduce_layers.{idx}',
        }[group]
        if layer == '0' and param != 'weight':
            return None, value, 'unknown'  # the official convs have no bias
        return f'{_conv_bn(target)[layer]}.{param}', value, ''

    m = re.fullmatch(r'CA\.(\d+)\.fc\.([02])\.weight', key)
    if m:
        idx, layer = m.groups()
        sub = 'reduce' if layer == '0' else 'expand'
        return (f'neck.cim.channel_attentions.{idx}.{sub}.conv.weight', value,
                '')

    m = re.fullmatch(r'REM\.(\d+)\.(.+)', key)
    if m:
        idx, rest = m.groups()
        if rest == 'param':
            return f'neck.rems.{idx}.gamma', value.reshape(1), ''
        m2 = re.fullmatch(r'conv_part\.(weight|bias)', rest)
        if m2:
            param = m2.group(1)
            if param == 'weight' and value.dim() == 4:
                if tuple(value.shape[2:]) != (1, 1):
                    raise ValueError(
                        f'{key}: expected a Linear weight (out, in) or a 1x1 '
                        f'conv weight, got shape {tuple(value.shape)}.')
                value = value.flatten(1)
            return f'neck.rems.{idx}.global_proj.{param}', value, ''
        if re.fullmatch(r'conv_(query|value)\.(weight|bias)', rest):
            return (None, value, 'REM query/value maps: softmax over one '
                    'element, no effect on the output')
        return None, value, 'unknown'

    m = re.fullmatch(r'fc_([RNT])\.(\d+)\.([01])\.(.+)', key)
    if m:
        mod, part, layer, param = m.groups()
        return (f'neck.part_fcs.{MODALITY_INDEX[mod]}.{part}.{layer}.{param}',
                value, '')

    m = re.fullmatch(r'classifier_([RNT])\.(\d+)\.(weight|bias)', key)
    if m:
        mod, part, param = m.groups()
        return (f'head.classifiers.{MODALITY_INDEX[mod]}.{part}.{param}',
                value, '')

    return None, value, 'unknown'


def strip_module_prefix(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Remove the DataParallel ``module.`` prefix from every key that has it.

    Raises:
        ValueError: If removing it makes two keys collide.
    """
    out = OrderedDict()
    for key, value in state_dict.items():
        new = key[len(_PREFIX):] if key.startswith(_PREFIX) else key
        if new in out:
            raise ValueError(f'Both "{new}" and "{_PREFIX}{new}" are in the '
                             'checkpoint; it is ambiguous which to keep.')
        out[new] = value
    return out


def convert_official_state_dict(
        state_dict: Dict[str, Tensor],
        allow_unknown: bool = False
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Rename an official IEEE state dict to mmieee's ``official`` variant.

    Args:
        state_dict (dict[str, Tensor]): The official model's state dict (keys
            with or without the ``module.`` prefix).
        allow_unknown (bool): Drop keys the converter cannot classify instead
            of raising. Defaults to False.

    Returns:
        tuple: ``(new_state_dict, dropped_keys)``: the mmieee state dict, and
        the (prefix-free) official keys that were dropped, in input order.

    Raises:
        UnknownKeyError: If a key cannot be classified and not
            ``allow_unknown``; the message names every such key.
        ValueError: On a malformed tensor shape or colliding keys.
    """
    state_dict = strip_module_prefix(state_dict)
    new_sd: 'OrderedDict[str, Tensor]' = OrderedDict()
    dropped, unknown = [], []
    for key, value in state_dict.items():
        new_key, new_value, reason = _map_key(key, value)
        if new_key is None:
            (unknown if reason == 'unknown' else dropped).append(key)
            continue
        if new_key in new_sd:  # cannot happen with the patterns above
            raise ValueError(f'Two official keys map to "{new_key}" '
                             f'(the second is "{key}").')
        new_sd[new_key] = new_value
    if unknown and not allow_unknown:
        raise UnknownKeyError(
            f'{len(unknown)} key(s) of the checkpoint do not belong to the '
            f'official IEEE layout: {", ".join(unknown)}. Pass '
            '--allow-unknown (allow_unknown=True) to drop them.')
    return new_sd, dropped + unknown


def drop_reason(key: str) -> str:
    """Why :func:`convert_official_state_dict` dropped ``key``."""
    key = key[len(_PREFIX):] if key.startswith(_PREFIX) else key
    reason = _map_key(key, torch.zeros(1))[2]
    return 'not part of the official layout' if reason == 'unknown' \
        else reason


def load_official_checkpoint(path: str) -> Dict[str, Tensor]:
    """Read an official checkpoint: a dict with ``state_dict`` or a bare one.

    The file is read with mmieee's safe loader (torch's ``weights_only``
    unpickler plus numpy types); set ``MMIEEE_TRUST_CHECKPOINTS=1`` to read
    a trusted file that holds other objects.

    Raises:
        NotACheckpointError: No state dict of tensors in the file.
    """
    from mmieee.utils import NotACheckpointError, load_from_local
    ckpt = load_from_local(path, map_location='cpu')
    state_dict = ckpt.get('state_dict', ckpt)
    if not isinstance(state_dict, dict) or not all(
            isinstance(v, Tensor) for v in state_dict.values()):
        raise NotACheckpointError(
            f'{path}: "state_dict" is not a mapping of tensors.')
    return state_dict


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an official IEEE (ziwang1121/IEEE) checkpoint '
        'to an mmieee checkpoint for the official-variant model.')
    parser.add_argument('src', help='official checkpoint (model.pth.tar-N)')
    parser.add_argument('dst', help='output mmieee checkpoint (.pth)')
    parser.add_argument(
        '--allow-unknown',
        action='store_true',
        help='drop keys outside the official layout instead of failing')
    parser.add_argument(
        '--check-config',
        metavar='CONFIG',
        help='mmieee config (file or model name of configs/*/metafile.yml) '
        'whose model must load the result strictly')
    return parser.parse_args(argv)


def convert(args: argparse.Namespace) -> None:
    """Read, convert, check and write (see the module docstring)."""
    from mmieee import __version__
    from mmieee.utils import (ConfigError, check_converted_weights,
                              check_output_file, writing)
    if not osp.isfile(args.src):
        raise ConfigError(f'checkpoint {args.src!r} does not exist')
    check_output_file(args.dst, 'DST')
    state_dict = load_official_checkpoint(args.src)
    try:
        new_sd, dropped = convert_official_state_dict(
            state_dict, allow_unknown=args.allow_unknown)
    except (UnknownKeyError, ValueError) as err:
        raise ConfigError(f'{args.src}: {err}') from err
    if not new_sd:
        raise ConfigError(
            f'nothing to convert: none of the {len(state_dict)} keys of '
            f'{args.src} belongs to the official IEEE layout (all dropped), '
            'so the output would be an empty checkpoint. Is it an official '
            'IEEE checkpoint?')
    print(f'Converted {len(new_sd)} tensors from {args.src}.')
    if dropped:
        print(f'Dropped {len(dropped)} official key(s):')
        for key in dropped:
            print(f'  {key}  ({drop_reason(key)})')
    if args.check_config:
        check_converted_weights(new_sd, args.check_config)
        print(f'OK: loads strictly into the model of {args.check_config}.')
    meta = dict(
        converted_from='official IEEE (ziwang1121/IEEE)',
        # the official streams 0, 1, 2 are RGB, NI, TI
        modalities=['RGB', 'NI', 'TI'],
        source=args.src,
        mmieee_version=__version__,
        dropped_keys=dropped)
    with writing(args.dst):
        torch.save({'state_dict': new_sd, 'meta': meta}, args.dst)
    print(f'Saved {args.dst}.')


def main(argv=None) -> None:
    import mmieee  # noqa: F401  (compat shims before mmpretrain)
    from mmieee.utils import exit_on_user_error
    args = parse_args(argv)
    with exit_on_user_error():
        convert(args)


if __name__ == '__main__':
    main()
