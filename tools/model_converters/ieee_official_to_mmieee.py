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
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

from mmieee.utils import (check_converted_weights, check_output_file,
                          exit_on_user_error)
from mmieee.utils.official_checkpoint import (MODULE_PREFIX,
                                              converter_argument_parser,
                                              load_official_state_dict,
                                              naming_source, require_converted,
                                              save_converted_checkpoint,
                                              strip_module_prefix,
                                              unknown_keys_error)

#: Official part-branch suffix → mmieee stream index.
MODALITY_INDEX = {'R': 0, 'N': 1, 'T': 2}
#: What the official keys belong to, for messages.
LAYOUT = 'the official IEEE layout'


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


def convert_official_state_dict(
        state_dict: Dict[str, Tensor],
        allow_unknown: bool = False,
        source: str = 'the checkpoint'
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Rename an official IEEE state dict to mmieee's ``official`` variant.

    Args:
        state_dict (dict[str, Tensor]): The official model's state dict (keys
            with or without the ``module.`` prefix).
        allow_unknown (bool): Drop keys the converter cannot classify instead
            of raising. Defaults to False.
        source (str): Where it came from, for messages. Defaults to
            ``'the checkpoint'``.

    Returns:
        tuple: ``(new_state_dict, dropped_keys)``: the mmieee state dict, and
        the (prefix-free) official keys that were dropped, in input order.

    Raises:
        UnknownKeyError: If a key cannot be classified and not
            ``allow_unknown``; the message names such keys and ``source``.
        ConfigError: Two keys differ only by ``module.`` (both named).
        ValueError: On a malformed tensor shape.
    """
    state_dict = strip_module_prefix(state_dict, source)
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
        raise unknown_keys_error(
            unknown, source, LAYOUT,
            'Pass --allow-unknown (allow_unknown=True) to drop them.')
    return new_sd, dropped + unknown


def drop_reason(key: str) -> str:
    """Why :func:`convert_official_state_dict` dropped ``key``.

    Args:
        key (str): An official key, with or without ``module.``.

    Returns:
        str: The reason, ``'not part of the official layout'`` for a key
        dropped by ``allow_unknown``.
    """
    if key.startswith(MODULE_PREFIX):
        key = key[len(MODULE_PREFIX):]
    reason = _map_key(key, torch.zeros(1))[2]
    return 'not part of the official layout' if reason == 'unknown' \
        else reason


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = converter_argument_parser(
        'Convert an official IEEE (ziwang1121/IEEE) checkpoint to an mmieee '
        'checkpoint for the official-variant model.',
        'official checkpoint (model.pth.tar-N)')
    return parser.parse_args(argv)


def convert(args: argparse.Namespace) -> None:
    """Read, convert, check and write (see the module docstring).

    Args:
        args (argparse.Namespace): From :func:`parse_args`.

    Raises:
        ConfigError: A missing input, keys outside the official layout
            (unless ``--allow-unknown``), a malformed tensor or nothing to
            convert; the message names the file.
        NotACheckpointError, UnsafeCheckpointError: The input cannot be
            read safely.
        CheckpointMismatchError: ``--check-config``'s model does not fit.
        OutputWriteError: ``DST`` cannot be written.
    """
    check_output_file(args.dst, 'DST')
    state_dict = load_official_state_dict(args.src)
    with naming_source(args.src):
        new_sd, dropped = convert_official_state_dict(
            state_dict, allow_unknown=args.allow_unknown, source=args.src)
    require_converted(new_sd, len(state_dict), args.src, LAYOUT)
    print(f'Converted {len(new_sd)} tensors from {args.src}.')
    if dropped:
        print(f'Dropped {len(dropped)} official key(s):')
        for key in dropped:
            print(f'  {key}  ({drop_reason(key)})')
    if args.check_config:
        check_converted_weights(new_sd, args.check_config)
        print(f'OK: loads strictly into the model of {args.check_config}.')
    save_converted_checkpoint(
        args.dst, new_sd,
        dict(
            converted_from='official IEEE (ziwang1121/IEEE)',
            # the official streams 0, 1, 2 are RGB, NI, TI
            modalities=['RGB', 'NI', 'TI'],
            source=args.src,
            dropped_keys=dropped))
    print(f'Saved {args.dst}.')


def main(argv: Optional[List[str]] = None) -> None:
    """Run :func:`convert`; a user error ends the process with ``Error:
    <message>`` and exit status 2.

    Args:
        argv (list[str], optional): The arguments; default ``sys.argv``.
    """
    args = parse_args(argv)
    with exit_on_user_error():
        convert(args)


if __name__ == '__main__':
    main()
