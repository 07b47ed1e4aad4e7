# Copyright (c) mmieee contributors.
"""CLIP image-encoder weights from OpenAI's and Hugging Face's files, as one
OpenAI-named state dict (``visual.*``).

DeMo initialises its encoder from OpenAI's ``ViT-B-16.pt``
(``modeling/make_model_clipreid.py:174-187`` and ``modeling/clip/model.py``
of github.com/924973292/DeMo); the same weights are published by Hugging
Face as ``openai/clip-vit-base-patch16`` (``model.safetensors``,
``pytorch_model.bin``). :func:`load_clip_visual_weights` reads any of
them without running code from the file:

* OpenAI's TorchScript archive: :func:`~.torchscript_weights.
  read_torchscript_state_dict` (never ``torch.jit.load``);
* a state dict saved with ``torch.save`` (OpenAI-named, the official
  loader's fallback, or Hugging Face's ``pytorch_model.bin``): mmieee's safe
  checkpoint loader (:func:`~.safe_checkpoint.load_checkpoint_bytes`);
* ``model.safetensors``: the ``safetensors`` package, which reads a JSON
  header and raw tensor bytes (no pickle).

OpenAI's file also holds the text tower (``transformer.*``,
``token_embedding``, ``ln_final``, ``positional_embedding``,
``text_projection``), ``logit_scale`` and three integer entries
(``input_resolution``, ``context_length``, ``vocab_size``, 0-d int64
tensors that the official loader deletes); only ``visual.*`` is kept.
Hugging Face names are mapped with :func:`hf_clip_to_openai_visual`, the
inverse of Hugging Face's ``convert_clip_original_pytorch_to_hf.py``: the
query, key and value projections are concatenated into ``in_proj_*`` and
``visual_projection.weight`` is transposed into ``visual.proj``.
"""
import collections
import os
import re
from typing import Dict, Mapping, Optional

import torch

from .errors import NotACheckpointError
from .safe_checkpoint import load_checkpoint_bytes
from .torchscript_weights import (is_torchscript_archive,
                                  read_torchscript_state_dict)

#: Hugging Face vision-tower names → OpenAI names (per-layer names below).
HF_VISION_NAMES = {
    'vision_model.embeddings.class_embedding': 'visual.class_embedding',
    'vision_model.embeddings.patch_embedding.weight': 'visual.conv1.weight',
    'vision_model.embeddings.position_embedding.weight':
    'visual.positional_embedding',
    'vision_model.pre_layrnorm.weight': 'visual.ln_pre.weight',
    'vision_model.pre_layrnorm.bias': 'visual.ln_pre.bias',
    'vision_model.post_layernorm.weight': 'visual.ln_post.weight',
    'vision_model.post_layernorm.bias': 'visual.ln_post.bias',
}

#: Hugging Face encoder-layer names → OpenAI residual-block names.
HF_LAYER_NAMES = {
    'self_attn.out_proj': 'attn.out_proj',
    'layer_norm1': 'ln_1',
    'mlp.fc1': 'mlp.c_fc',
    'mlp.fc2': 'mlp.c_proj',
    'layer_norm2': 'ln_2',
}

#: Hugging Face vision entries that are not weights.
HF_IGNORED = ('vision_model.embeddings.position_ids', )

_HF_LAYER = re.compile(r'vision_model\.encoder\.layers\.(\d+)\.(.+)\.'
                       r'(weight|bias)')


def _is_safetensors(path: str) -> bool:
    """A safetensors file starts with the 8-byte length of a JSON header."""
    with open(path, 'rb') as f:
        head = f.read(9)
    return (len(head) == 9 and head[8:9] == b'{' and 2 <= int.from_bytes(
        head[:8], 'little') <= os.path.getsize(path) - 8)


def read_clip_file(path: str) -> 'collections.OrderedDict[str, torch.Tensor]':
    """Every tensor of a CLIP weight file, by its name in the file.

    Args:
        path (str): OpenAI's TorchScript archive (``ViT-B-16.pt``), a
            ``torch.save`` state dict, or a ``.safetensors`` file.

    Returns:
        OrderedDict[str, Tensor]: The file's tensors, unchanged.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsafeCheckpointError: The file asks for anything but tensors.
        NotACheckpointError: Not a weight file, or no state dict in it.
    """
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(f'CLIP weight file {name!r} does not exist.')
    if is_torchscript_archive(name):
        return read_torchscript_state_dict(name)
    if _is_safetensors(name):
        from safetensors import SafetensorError, safe_open
        try:
            with safe_open(name, framework='pt') as f:
                return collections.OrderedDict(
                    (k, f.get_tensor(k)) for k in f.keys())
        except SafetensorError as err:
            raise NotACheckpointError(
                f'{name} is not a readable safetensors file: {err}') from None
    state = load_checkpoint_bytes(name, name, map_location='cpu')
    if 'state_dict' in state and isinstance(state['state_dict'], Mapping):
        state = state['state_dict']
    bad = [k for k, v in state.items() if not torch.is_tensor(v)]
    if bad:
        raise NotACheckpointError(
            f'{name} is not a state dict of tensors: {bad[:3]} hold '
            f'{type(state[bad[0]]).__name__}.')
    return collections.OrderedDict(state)


def openai_clip_visual(state: Mapping[str, torch.Tensor],
                       name: str = 'state dict'
                       ) -> 'collections.OrderedDict[str, torch.Tensor]':
    """The ``visual.*`` entries of an OpenAI-named CLIP state dict.

    Args:
        state (Mapping[str, Tensor]): OpenAI names (both towers, the three
            integer entries).
        name (str): Where it comes from, for messages.

    Returns:
        OrderedDict[str, Tensor]: ``visual.*`` in the file's order.
    """
    visual = collections.OrderedDict(
        (k, v) for k, v in state.items() if k.startswith('visual.'))
    if not visual:
        raise NotACheckpointError(
            f'{name} has no image encoder: no key starts with "visual." '
            '(OpenAI names) or "vision_model." (Hugging Face names).')
    return visual


def hf_clip_to_openai_visual(state: Mapping[str, torch.Tensor],
                             name: str = 'state dict'
                             ) -> 'collections.OrderedDict[str, torch.Tensor]':
    """Hugging Face CLIP vision weights under OpenAI's ``visual.*`` names.

    Args:
        state (Mapping[str, Tensor]): A ``CLIPModel`` (or
            ``CLIPVisionModelWithProjection``) state dict; text-tower
            entries are ignored.
        name (str): Where it comes from, for messages.

    Returns:
        OrderedDict[str, Tensor]: In OpenAI's order: ``class_embedding``,
        ``positional_embedding``, ``proj``, ``conv1.weight``, ``ln_pre``,
        the residual blocks, ``ln_post``; ``in_proj_weight`` (3D, D) is
        ``cat(q, k, v)``, ``proj`` (D, E) is ``visual_projection.weight``
        transposed (contiguous).

    Raises:
        NotACheckpointError: A weight is missing (e.g. a
            ``CLIPVisionModel`` file has no ``visual_projection``), or a
            vision entry is not a CLIP weight.
    """
    vision = {k: v for k, v in state.items()
              if k.startswith('vision_model.') and k not in HF_IGNORED}
    if 'visual_projection.weight' in state:
        vision['visual_projection.weight'] = state['visual_projection.weight']
    if not vision:
        raise NotACheckpointError(
            f'{name} has no Hugging Face CLIP vision tower (no key starts '
            'with "vision_model.").')
    for suffix in ('weight', 'bias'):  # also spelt without the typo
        key = f'vision_model.pre_layernorm.{suffix}'
        if key in vision:
            vision[f'vision_model.pre_layrnorm.{suffix}'] = vision.pop(key)
    required = list(HF_VISION_NAMES) + ['visual_projection.weight']
    missing = [k for k in required if k not in vision]
    if missing:
        raise NotACheckpointError(
            f'{name} lacks the CLIP vision weight(s) {missing[:3]}'
            f'{" ..." if len(missing) > 3 else ""}; '
            + ('it is a vision model without the projection to the joint '
               'space (CLIPVisionModel); use the CLIPModel file.'
               if missing == ['visual_projection.weight'] else
               'not a complete CLIP vision tower.'))
    mapped: Dict[str, torch.Tensor] = {
        openai: vision.pop(hf) for hf, openai in HF_VISION_NAMES.items()}
    mapped['visual.proj'] = vision.pop(
        'visual_projection.weight').t().contiguous()
    layers: Dict[int, Dict[str, torch.Tensor]] = collections.defaultdict(
        dict)
    for key in list(vision):
        match = _HF_LAYER.fullmatch(key)
        if match is None:
            continue
        layers[int(match.group(1))][f'{match.group(2)}.{match.group(3)}'] \
            = vision.pop(key)
    if vision:
        raise NotACheckpointError(
            f'{name}: {sorted(vision)[:3]} are not weights of a CLIP vision '
            'tower (OpenAI ViT).')
    if sorted(layers) != list(range(len(layers))):
        raise NotACheckpointError(
            f'{name}: encoder layers {sorted(layers)} are not numbered '
            '0, 1, 2, ...')
    blocks = {}
    for index, weights in sorted(layers.items()):
        prefix = f'visual.transformer.resblocks.{index}.'
        try:
            for kind in ('weight', 'bias'):
                blocks[f'{prefix}attn.in_proj_{kind}'] = torch.cat([
                    weights.pop(f'self_attn.{p}_proj.{kind}')
                    for p in ('q', 'k', 'v')
                ])
            for hf, openai in HF_LAYER_NAMES.items():
                for kind in ('weight', 'bias'):
                    blocks[f'{prefix}{openai}.{kind}'] = weights.pop(
                        f'{hf}.{kind}')
        except KeyError as err:
            raise NotACheckpointError(
                f'{name}: encoder layer {index} has no '
                f'vision_model.encoder.layers.{index}.{err.args[0]}.'
            ) from None
        if weights:
            raise NotACheckpointError(
                f'{name}: encoder layer {index} has weights a CLIP '
                f'residual block does not: {sorted(weights)}.')
    order = ['visual.class_embedding', 'visual.positional_embedding',
             'visual.proj', 'visual.conv1.weight', 'visual.ln_pre.weight',
             'visual.ln_pre.bias']
    out = collections.OrderedDict((k, mapped[k]) for k in order)
    out.update(blocks)
    for key in ('visual.ln_post.weight', 'visual.ln_post.bias'):
        out[key] = mapped[key]
    return out


def load_clip_visual_weights(path: str,
                             dtype: Optional[torch.dtype] = None
                             ) -> 'collections.OrderedDict[str, torch.Tensor]':
    """The CLIP image encoder of an OpenAI or Hugging Face file, OpenAI-named.

    Args:
        path (str): OpenAI's ``ViT-B-16.pt`` (TorchScript), an OpenAI-named
            ``torch.save`` state dict, Hugging Face's ``model.safetensors``
            or ``pytorch_model.bin`` (``openai/clip-vit-base-patch16``).
        dtype (torch.dtype, optional): Cast every tensor to it (DeMo's
            loader ends with float32 weights). None keeps the file's dtypes
            (OpenAI's: float16 for convolution, linear and attention
            weights).

    Returns:
        OrderedDict[str, Tensor]: ``visual.*`` weights: the same names,
        shapes and values from OpenAI's and Hugging Face's files of the
        same weights.

    Raises:
        FileNotFoundError, UnsafeCheckpointError, NotACheckpointError: See
            :func:`read_clip_file`; also a file with neither OpenAI nor
            Hugging Face CLIP names.
    """
    name = os.fspath(path)
    state = read_clip_file(name)
    if any(k.startswith('vision_model.') for k in state):
        visual = hf_clip_to_openai_visual(state, name)
    else:
        visual = openai_clip_visual(state, name)
    if dtype is not None:
        visual = collections.OrderedDict(
            (k, v.to(dtype)) for k, v in visual.items())
    return visual
