# Copyright (c) mmieee contributors.
"""Convert a state dict saved by the official TOP-ReID code to an mmieee
checkpoint.

The official code (github.com/924973292/TOP-ReID, ``modeling/make_model.py``,
class ``TOPReID``) saves ``torch.save(model.state_dict(), path)``; keys may
carry DataParallel's ``module.`` prefix. This tool renames every key to the
mmieee model of ``configs/topreid/`` (``MultiStreamBackbone`` of
``ReIDViT`` streams, ``TOPReIDNeck``, ``BNNeckHead``) so that it loads
strictly and gives the official test features, with and without
``model.test_cfg.missing_modalities``.

Usage::

    python tools/model_converters/topreid_official_to_mmieee.py \\
        RGBNT201_best.pth topreid_rgbnt201.pth \\
        [--direct {1,0}] [--allow-unknown] [--check-config CONFIG]

``--direct`` is the official ``MODEL.DIRECT`` of the run: 1 (RGBNT201, the
default) trains the TPM feature and the concatenated class tokens; 0
(RGBNT100, MSVR310) trains the TPM feature and each stream's class token.

Mapping (official -> mmieee; streams ``RGB``, ``NI``, ``TI`` are
``backbone.streams.{0,1,2}`` and the heads' ``cls_{0,1,2}``):

- ``{S}.base.cls_token`` / ``pos_embed`` -> ``backbone.streams.{i}.<same>``;
  ``{S}.base.sie_embed`` -> ``backbone.streams.{i}.camera_embed``
- ``{S}.base.patch_embed.proj.*`` -> ``...patch_embed.projection.*``
- ``{S}.base.blocks.{j}.norm1/attn.qkv/attn.proj/norm2/mlp.fc1/mlp.fc2`` ->
  ``...layers.{j}.ln1/attn.qkv/attn.proj/ln2/ffn.layers.0.0/ffn.layers.1``;
  ``{S}.base.norm`` -> ``...ln1``
- ``TPM.Ro_{start,middle,end}.Rotation.*`` -> ``neck.tpm.blocks.{0,1,2}.*``
  (``norm1`` -> ``ln1``, ``attn.normy`` -> ``attn.ln_kv``, ``attn.q_`` /
  ``k_`` / ``v_`` -> ``attn.q`` / ``k`` / ``v``, ``norm2`` -> ``ln2``, MLP as
  above)
- ``CRM.{RGB,NI,TI}RE.re{1,2}.blocks.{k}.*`` ->
  ``neck.crm.units.{s}_to_{t}.{k}.*`` (``RGBRE.re1`` RGB -> NI, ``re2``
  RGB -> TI; ``NIRE.re1`` NI -> RGB, ``re2`` NI -> TI; ``TIRE.re1``
  TI -> RGB, ``re2`` TI -> NI)
- ``bottleneck_TPM.*`` / ``classifier_TPM.weight`` ->
  ``head.bnnecks.tpm.*`` / ``head.classifiers.tpm.weight``
- DIRECT 1: ``bottleneck_ViT`` / ``classifier_ViT`` -> branch ``cls``;
  DIRECT 0: ``{S}.bottleneck`` / ``{S}.classifier`` -> branch ``cls_{i}``.

Dropped, and listed by the tool: each stream's ImageNet classifier
``{S}.base.fc.*`` (never called); with DIRECT 1 also each stream's
``{S}.classifier`` and ``{S}.bottleneck`` (computed, never used by the loss
or the feature), 24 keys in all; with DIRECT 0 instead
``bottleneck_ViT`` / ``classifier_ViT`` (12 keys in all). Any other key is
an error naming it (``--allow-unknown`` drops and lists it instead).
"""
import argparse
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

from torch import Tensor

from mmieee.utils import (check_converted_weights, check_output_file,
                          exit_on_user_error)
from mmieee.utils.official_checkpoint import (converter_argument_parser,
                                              load_official_state_dict,
                                              naming_source, require_converted,
                                              save_converted_checkpoint,
                                              strip_module_prefix,
                                              unknown_keys_error)

#: Official stream name -> mmieee modality index (RGB, NI, TI order).
STREAMS = {'RGB': 0, 'NI': 1, 'TI': 2}
#: Official CRM reconstructor -> (source, target) modality indices.
CRM_UNITS = {
    ('RGB', 're1'): (0, 1), ('RGB', 're2'): (0, 2),
    ('NI', 're1'): (1, 0), ('NI', 're2'): (1, 2),
    ('TI', 're1'): (2, 0), ('TI', 're2'): (2, 1),
}
TPM_STEPS = {'start': 0, 'middle': 1, 'end': 2}
#: Sub-module renames shared by the ViT blocks, TPM and CRM.
_LAYER_RENAMES = (
    ('norm1.', 'ln1.'), ('norm2.', 'ln2.'), ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'), ('attn.normy.', 'attn.ln_kv.'),
    ('attn.q_.', 'attn.q.'), ('attn.k_.', 'attn.k.'), ('attn.v_.', 'attn.v.'),
)
#: What the official keys belong to, for messages.
LAYOUT = 'the official TOP-ReID layout'
_HEAD_PARAMS = r'(weight|bias|running_mean|running_var|num_batches_tracked)'


def _layer(rest: str) -> str:
    """An official ViT / TPM / CRM block's sub-module name in mmieee."""
    for old, new in _LAYER_RENAMES:
        if rest.startswith(old):
            return new + rest[len(old):]
    return rest


def map_key(key: str, direct: int = 1) -> Tuple[Optional[str], str]:
    """The mmieee key of one official key (without ``module.``).

    Args:
        key (str): The official key.
        direct (int): The official ``MODEL.DIRECT`` (1 or 0). Defaults to 1.

    Returns:
        tuple: ``(new_key, reason)``; ``new_key`` is None for a dropped key
        (``reason`` says why) and ``reason`` is ``'unknown'`` for a key
        outside the layout.
    """
    m = re.fullmatch(r'(RGB|NI|TI)\.base\.(.+)', key)
    if m:
        stream, rest = f'backbone.streams.{STREAMS[m[1]]}', m[2]
        if re.fullmatch(r'fc\.(weight|bias)', rest):
            return None, 'the stream\'s ImageNet classifier, never called'
        if rest in ('cls_token', 'pos_embed'):
            return f'{stream}.{rest}', ''
        if rest == 'sie_embed':
            return f'{stream}.camera_embed', ''
        b = re.fullmatch(r'patch_embed\.proj\.(weight|bias)', rest)
        if b:
            return f'{stream}.patch_embed.projection.{b[1]}', ''
        b = re.fullmatch(r'norm\.(weight|bias)', rest)
        if b:
            return f'{stream}.ln1.{b[1]}', ''
        b = re.fullmatch(r'blocks\.(\d+)\.(.+)', rest)
        if b:
            return f'{stream}.layers.{b[1]}.{_layer(b[2])}', ''
        return None, 'unknown'
    m = re.fullmatch(rf'(RGB|NI|TI)\.(classifier|bottleneck)\.{_HEAD_PARAMS}',
                     key)
    if m:
        if direct:
            return None, ('the stream\'s own head, not used by the loss '
                          'or the feature with DIRECT 1')
        part = 'classifiers' if m[2] == 'classifier' else 'bnnecks'
        return f'head.{part}.cls_{STREAMS[m[1]]}.{m[3]}', ''
    m = re.fullmatch(r'TPM\.Ro_(start|middle|end)\.Rotation\.(.+)', key)
    if m:
        return f'neck.tpm.blocks.{TPM_STEPS[m[1]]}.{_layer(m[2])}', ''
    m = re.fullmatch(r'CRM\.(RGB|NI|TI)RE\.(re[12])\.blocks\.(\d+)\.(.+)',
                     key)
    if m:
        s, t = CRM_UNITS[(m[1], m[2])]
        return f'neck.crm.units.{s}_to_{t}.{m[3]}.{_layer(m[4])}', ''
    m = re.fullmatch(rf'(classifier|bottleneck)_(TPM|ViT)\.{_HEAD_PARAMS}',
                     key)
    if m:
        if m[2] == 'ViT' and not direct:
            return None, ('the concatenated-class-token head, not used by '
                          'the loss or the feature with DIRECT 0')
        part = 'classifiers' if m[1] == 'classifier' else 'bnnecks'
        branch = 'tpm' if m[2] == 'TPM' else 'cls'
        return f'head.{part}.{branch}.{m[3]}', ''
    return None, 'unknown'


def convert_official_state_dict(
        state_dict: Dict[str, Tensor],
        direct: int = 1,
        allow_unknown: bool = False,
        source: str = 'the checkpoint'
) -> Tuple['OrderedDict[str, Tensor]', List[Tuple[str, str]]]:
    """Rename an official TOP-ReID state dict to mmieee's model.

    Args:
        state_dict (dict[str, Tensor]): Official keys, with or without
            ``module.``.
        direct (int): The official ``MODEL.DIRECT`` (1 or 0). Defaults to 1.
        allow_unknown (bool): Drop keys outside the official layout instead
            of failing (they are listed with the reason ``'unknown'``).
            Defaults to False.
        source (str): Where it came from, for messages. Defaults to
            ``'the checkpoint'``.

    Returns:
        tuple: The mmieee state dict and the dropped ``(key, reason)`` pairs
        in input order.

    Raises:
        UnknownKeyError: Keys outside the official layout, unless
            ``allow_unknown`` (named, with ``source``).
        ConfigError: Two keys differ only by ``module.`` (both named).
        ValueError: ``direct`` is not 0 or 1.
    """
    if direct not in (0, 1):
        raise ValueError(f'direct must be 0 or 1, got {direct!r}')
    state_dict = strip_module_prefix(state_dict, source)
    new_sd: 'OrderedDict[str, Tensor]' = OrderedDict()
    dropped, unknown = [], []
    for key, value in state_dict.items():
        new_key, reason = map_key(key, direct)
        if new_key is None:
            dropped.append((key, reason))
            if reason == 'unknown':
                unknown.append(key)
            continue
        new_sd[new_key] = value
    if unknown and not allow_unknown:
        raise unknown_keys_error(
            unknown, source, LAYOUT,
            'Pass --allow-unknown (allow_unknown=True) to drop them.')
    return new_sd, dropped


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = converter_argument_parser(
        'Convert a state dict of the official TOP-ReID code '
        '(github.com/924973292/TOP-ReID) to an mmieee checkpoint.',
        'official state dict (.pth)')
    parser.add_argument(
        '--direct', type=int, choices=(0, 1), default=1,
        help='the official MODEL.DIRECT of the run: 1 (RGBNT201, default) '
        'or 0 (RGBNT100, MSVR310: per-modality heads)')
    return parser.parse_args(argv)


def convert(args: argparse.Namespace) -> None:
    """Read, convert, check and write (see the module docstring).

    Args:
        args (argparse.Namespace): From :func:`parse_args`.

    Raises:
        ConfigError: A missing input, keys outside the official layout or
            nothing to convert; the message names the file.
        NotACheckpointError, UnsafeCheckpointError: The input cannot be
            read safely.
        CheckpointMismatchError: ``--check-config``'s model does not fit.
        OutputWriteError: ``DST`` cannot be written.
    """
    check_output_file(args.dst, 'DST')
    state_dict = strip_module_prefix(load_official_state_dict(args.src),
                                     args.src)
    with naming_source(args.src):
        new_sd, dropped = convert_official_state_dict(
            state_dict, direct=args.direct,
            allow_unknown=args.allow_unknown, source=args.src)
    require_converted(new_sd, len(state_dict), args.src, LAYOUT)
    print(f'Converted {len(new_sd)} tensors from {args.src} '
          f'(DIRECT {args.direct}).')
    values = sum(state_dict[k].numel() for k, _ in dropped)
    print(f'Dropped {len(dropped)} official key(s) ({values:,} values):')
    for key, reason in dropped:
        print(f'  {key}  ({reason})')
    if args.check_config:
        check_converted_weights(new_sd, args.check_config)
        print(f'OK: loads strictly into the model of {args.check_config}.')
    save_converted_checkpoint(
        args.dst, new_sd,
        dict(
            converted_from='official TOP-ReID '
            '(github.com/924973292/TOP-ReID)',
            modalities=['RGB', 'NI', 'TI'],
            source=args.src,
            direct=args.direct,
            dropped_keys=[k for k, _ in dropped]))
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
