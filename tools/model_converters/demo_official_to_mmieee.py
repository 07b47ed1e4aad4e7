# Copyright (c) mmieee contributors.
"""Convert a state dict saved by the official DeMo code to an mmieee
checkpoint.

The official implementation (github.com/924973292/DeMo, CLIP backbone,
``MODEL.TRANSFORMER_TYPE: 'ViT-B-16'``) saves ``torch.save(
model.state_dict())`` (keys with ``module.`` under DataParallel). This tool
renames every key to the model of ``configs/demo/`` so that it loads with no
missing or unexpected key and computes the same test features (the same
5120 numbers for ``return_pattern=3``: tested against the official code in
tests/test_tools/test_demo_official_to_mmieee.py).

Usage::

    python tools/model_converters/demo_official_to_mmieee.py \\
        DeMo_RGBNT201.pth demo_rgbnt201.pth \\
        [--check-config configs/demo/demo_vit-b16-clip_1xb64-50e_rgbnt201.py]

Mapping (official -> mmieee):

- ``BACKBONE.base.<OpenAI visual key>`` -> ``backbone.streams.0.<ReIDViT
  key>`` (the CLIP name map of
  :mod:`mmieee.models.weight_init.clip_visual_pretrained`; the in-projection
  keeps its q, k, v order; ``class_embedding`` (D,) becomes ``cls_token``
  (1, 1, D), ``positional_embedding`` (L, D) ``pos_embed`` (1, L, D));
- ``BACKBONE.cv_embed`` -> ``backbone.streams.0.camera_embed``;
- ``{rgb,nir,tir}_reduce.*`` -> ``neck.pife.reduces.{0,1,2}.*``;
- ``generalFusion.{r,n,t,rn,rt,nt,rnt}_token`` (each (1, 1, D)) -> the rows
  0 .. 6 of ``neck.hdm.queries`` (7, D);
- ``generalFusion.{r,n,t,rn,rt,nt,rnt}.*`` -> ``neck.hdm.attentions.{0..6}.*``;
- ``generalFusion.moe.gating_network.gate.linear_re.*`` ->
  ``neck.atmoe.gate_reduce.*``; ``...gate.q_.weight`` / ``k_.weight`` ->
  ``neck.atmoe.gate_query.weight`` / ``gate_key.weight``;
- ``generalFusion.moe.experts.{h}.expertHead.{e}.mlp.*`` ->
  ``neck.atmoe.experts.{h}.{e}.*``;
- ``classifier_moe`` / ``bottleneck_moe`` -> ``head.classifiers.moe`` /
  ``head.bnnecks.moe``; ``classifier`` / ``bottleneck`` (``DIRECT=1``) ->
  ``...ori``; ``classifier_{r,n,t}`` / ``bottleneck_{r,n,t}``
  (``DIRECT=0``) -> ``...global_{0,1,2}``.

No key is dropped: every tensor of the official model has a place in
mmieee's (the BN-neck classifiers never reach the test feature but are
kept, so that the checkpoint also resumes training). A key outside this
layout (e.g. of the ImageNet-ViT variant ``vit_base_patch16_224``, which
mmieee does not host) is an error naming it, unless ``--allow-unknown``
(then it is dropped and listed).
"""
import argparse
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

import mmieee  # noqa: F401  (compat shims before mmpretrain)
from mmieee.models.necks.hdm import modality_combinations
from mmieee.models.weight_init import openai_visual_key_to_reid_vit
from mmieee.utils import (check_converted_weights, check_output_file,
                          exit_on_user_error)
from mmieee.utils.official_checkpoint import (converter_argument_parser,
                                              load_official_state_dict,
                                              naming_source, require_converted,
                                              save_converted_checkpoint,
                                              strip_module_prefix,
                                              unknown_keys_error)

#: Official modality letters / module prefixes -> modality index.
LETTERS = 'rnt'
REDUCES = {'rgb_reduce': 0, 'nir_reduce': 1, 'tir_reduce': 2}
#: Official HDM names (r, n, ..., rnt) -> combination index.
COMBINATIONS = {
    ''.join(LETTERS[m] for m in combo): k
    for k, combo in enumerate(modality_combinations(3))
}

#: Official head suffix -> BNNeckHead branch (DIRECT=1: '' on ori;
#: DIRECT=0: _r / _n / _t on the per-modality globals).
HEAD_BRANCHES = {
    None: 'ori',
    '_moe': 'moe',
    '_r': 'global_0',
    '_n': 'global_1',
    '_t': 'global_2'
}

#: What the official keys belong to, for messages.
LAYOUT = 'the official DeMo layout with the CLIP backbone'
_STREAM = 'backbone.streams.0.'


def _map_key(key: str, value: Tensor) -> Tuple[Optional[str], Tensor]:
    """Map one official key (without ``module.``); None: unknown.

    HDM query tokens are returned as ``neck.hdm.queries.{k}`` (one row),
    stacked by :func:`convert_official_state_dict`.
    """
    if key == 'BACKBONE.cv_embed':
        return _STREAM + 'camera_embed', value
    if key.startswith('BACKBONE.base.'):
        new = openai_visual_key_to_reid_vit(key[len('BACKBONE.base.'):])
        if not new:
            return None, value
        if new == 'cls_token':
            value = value.reshape(1, 1, -1)
        elif new == 'pos_embed':
            value = value.reshape(1, *value.shape[-2:])
        return _STREAM + new, value
    m = re.fullmatch(r'(rgb|nir|tir)_reduce\.([01])\.(weight|bias)', key)
    if m:
        idx = REDUCES[f'{m.group(1)}_reduce']
        return f'neck.pife.reduces.{idx}.{m.group(2)}.{m.group(3)}', value
    m = re.fullmatch(r'generalFusion\.([rnt]+)_token', key)
    if m and m.group(1) in COMBINATIONS:
        return f'neck.hdm.queries.{COMBINATIONS[m.group(1)]}', value.reshape(
            -1)
    m = re.fullmatch(r'generalFusion\.([rnt]+)\.(.+)', key)
    if m and m.group(1) in COMBINATIONS:
        return (f'neck.hdm.attentions.{COMBINATIONS[m.group(1)]}.'
                f'{m.group(2)}', value)
    m = re.fullmatch(
        r'generalFusion\.moe\.experts\.(\d+)\.expertHead\.(\d+)\.mlp\.(.+)',
        key)
    if m:
        return f'neck.atmoe.experts.{m.group(1)}.{m.group(2)}.{m.group(3)}', \
            value
    gate = 'generalFusion.moe.gating_network.gate.'
    if key.startswith(gate):
        rest = key[len(gate):]
        if rest.startswith('linear_re.'):
            return 'neck.atmoe.gate_reduce.' + rest[len('linear_re.'):], value
        if rest in ('q_.weight', 'k_.weight'):
            return ('neck.atmoe.gate_query.weight' if rest[0] == 'q' else
                    'neck.atmoe.gate_key.weight'), value
        return None, value
    m = re.fullmatch(r'(classifier|bottleneck)(_moe|_r|_n|_t)?\.(.+)', key)
    if m:
        kind, suffix, param = m.groups()
        branch = HEAD_BRANCHES[suffix]
        part = 'classifiers' if kind == 'classifier' else 'bnnecks'
        return f'head.{part}.{branch}.{param}', value
    return None, value


def convert_official_state_dict(
        state_dict: Dict[str, Tensor],
        allow_unknown: bool = False,
        source: str = 'the checkpoint'
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Rename an official DeMo state dict to mmieee's DeMo model.

    Args:
        state_dict (dict[str, Tensor]): The official model's state dict
            (keys with or without ``module.``).
        allow_unknown (bool): Drop keys outside the official layout instead
            of raising. Defaults to False.
        source (str): Where it came from, for messages. Defaults to
            ``'the checkpoint'``.

    Returns:
        tuple: ``(new_state_dict, dropped_keys)`` (the dropped keys are the
        unknown ones, only with ``allow_unknown``).

    Raises:
        UnknownKeyError: Keys outside the layout (named, with ``source``).
        ConfigError: Two keys differ only by ``module.`` (both named).
        ValueError: Two keys map to one, or HDM query tokens missing or not
            of one shape.
    """
    state_dict = strip_module_prefix(state_dict, source)
    new_sd: 'OrderedDict[str, Tensor]' = OrderedDict()
    queries: Dict[int, Tensor] = {}
    unknown = []
    for key, value in state_dict.items():
        new_key, new_value = _map_key(key, value)
        if new_key is None:
            unknown.append(key)
            continue
        if new_key.startswith('neck.hdm.queries.'):
            queries[int(new_key.rsplit('.', 1)[1])] = new_value
            continue
        if new_key in new_sd:
            raise ValueError(f'Two official keys map to "{new_key}" (the '
                             f'second is "{key}").')
        new_sd[new_key] = new_value
    if unknown and not allow_unknown:
        raise unknown_keys_error(
            unknown, source, LAYOUT,
            '(The ImageNet-ViT variant is not supported.) Pass '
            '--allow-unknown (allow_unknown=True) to drop them.')
    if queries:
        if sorted(queries) != list(range(len(COMBINATIONS))) or len(
                {q.shape for q in queries.values()}) != 1:
            raise ValueError(
                'The HDM query tokens generalFusion.{r,n,t,rn,rt,nt,rnt}_'
                'token must all be present with one shape; found '
                f'{sorted(k for k, v in COMBINATIONS.items() if v in queries)}'
            )
        new_sd['neck.hdm.queries'] = torch.stack(
            [queries[k] for k in sorted(queries)])
    return new_sd, unknown


def describe(state_dict: Dict[str, Tensor]) -> Dict[str, object]:
    """What the converted checkpoint is: the config values it needs.

    Args:
        state_dict (dict[str, Tensor]): A converted (mmieee) state dict.

    Returns:
        dict: ``num_classes``, ``num_cameras``, ``atmoe_heads``, ``direct``
        (1: one head on ``ori``; 0: per-modality heads) and
        ``patch_grid_tokens`` (1 + h*w).
    """
    info = {}
    for key, value in state_dict.items():
        if key.startswith('head.classifiers.'):
            info['num_classes'] = int(value.shape[0])
    info['direct'] = int('head.classifiers.ori.weight' in state_dict)
    if _STREAM + 'camera_embed' in state_dict:
        info['num_cameras'] = int(
            state_dict[_STREAM + 'camera_embed'].shape[0])
    heads = {
        int(k.split('.')[3])
        for k in state_dict if k.startswith('neck.atmoe.experts.')
    }
    info['atmoe_heads'] = len(heads)
    if _STREAM + 'pos_embed' in state_dict:
        info['patch_grid_tokens'] = int(
            state_dict[_STREAM + 'pos_embed'].shape[1])
    return info


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = converter_argument_parser(
        'Convert a state dict of the official DeMo code '
        '(github.com/924973292/DeMo, CLIP backbone) to an mmieee checkpoint.',
        'official state dict (.pth)')
    return parser.parse_args(argv)


def convert(args: argparse.Namespace) -> None:
    """Read, convert, check and write (see the module docstring).

    Args:
        args (argparse.Namespace): From :func:`parse_args`.

    Raises:
        ConfigError: A missing input, keys outside the official layout
            (unless ``--allow-unknown``), incomplete HDM query tokens or
            nothing to convert; the message names the file.
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
    info = describe(new_sd)
    print(f'Converted {len(state_dict) - len(dropped)} official tensors from '
          f'{args.src} into {len(new_sd)} mmieee tensors; no key dropped'
          if not dropped else f'Converted {args.src}; dropped '
          f'{len(dropped)} unknown key(s): {", ".join(dropped)}')
    print('The model it needs: ' +
          ', '.join(f'{k}={v}' for k, v in info.items()) +
          ' (configs/demo/: direct=1 with 4 ATMoE heads is the RGBNT201 '
          'model, direct=0 with 8 the vehicle models).')
    if args.check_config:
        check_converted_weights(new_sd, args.check_config)
        print(f'OK: loads strictly into the model of {args.check_config}.')
    save_converted_checkpoint(
        args.dst, new_sd,
        dict(
            converted_from='official DeMo (github.com/924973292/DeMo)',
            # the official forward takes x['RGB'], x['NI'], x['TI']
            modalities=['RGB', 'NI', 'TI'],
            source=args.src,
            dropped_keys=dropped,
            **info))
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
