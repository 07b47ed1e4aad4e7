# Copyright (c) mmieee contributors.
"""Initialise a :class:`~mmieee.models.backbones.ReIDViT` from OpenAI's CLIP
visual encoder (Radford et al., "Learning Transferable Visual Models From
Natural Language Supervision", ICML 2021), as DeMo's official loader does.

Reproduces ``load_clip_to_cpu`` -> ``build_model`` of the official DeMo code
(``modeling/make_model_clipreid.py`` and ``modeling/clip/model.py`` of
github.com/924973292/DeMo) for what reaches the model: only the visual
tower is kept (the text tower, ``logit_scale`` and the scalar entries
``input_resolution`` / ``context_length`` / ``vocab_size`` are dropped); the
position embedding's 14 x 14 grid is resized to the model's patch grid (16 x
8 for 256 x 128 inputs, 8 x 16 for 128 x 256) with bilinear interpolation,
``align_corners=False``, the class row kept (``ReIDViT``'s load pre-hook,
mmpretrain's ``resize_pos_embed``); the tensors are copied into the fp32
parameters as they are: the official ``convert_weights`` casts to fp32
despite its name, so there is no fp16 round trip. The camera embedding is
not in the file: it keeps its own initialisation (truncated normal, std
0.02, as officially).

OpenAI's visual names -> mmpretrain's (``ReIDViT``):

==========================================  ===============================
``class_embedding`` (D,)                    ``cls_token`` (1, 1, D)
``positional_embedding`` (1 + 14*14, D)     ``pos_embed`` (1, 1 + h*w, D)
``conv1.weight``                            ``patch_embed.projection.weight``
``ln_pre.*``                                ``pre_norm.*``
``transformer.resblocks.{i}.ln_1.*``        ``layers.{i}.ln1.*``
``....attn.in_proj_weight`` / ``_bias``     ``layers.{i}.attn.qkv.weight`` /
                                            ``.bias`` (same q, k, v order)
``....attn.out_proj.*``                     ``layers.{i}.attn.proj.*``
``....ln_2.*``                              ``layers.{i}.ln2.*``
``....mlp.c_fc.*``                          ``layers.{i}.ffn.layers.0.0.*``
``....mlp.c_proj.*``                        ``layers.{i}.ffn.layers.1.*``
``ln_post.*``                               ``ln1.*``
``proj`` (D, 512)                           ``proj`` (D, 512)
==========================================  ===============================
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Mapping

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import PretrainedInit, update_init_info
from torch import Tensor, nn

from mmieee.registry import WEIGHT_INITIALIZERS
from mmieee.utils import (CheckpointMismatchError, ConfigError,
                          load_clip_visual_weights)

#: Where OpenAI publishes the ViT-B/16 CLIP file the official code loads.
OPENAI_VIT_B16_URL = (
    'https://openaipublic.azureedge.net/clip/models/'
    '5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/'
    'ViT-B-16.pt')
#: Where OpenAI's ``clip.load('ViT-B/16')`` keeps it (the configs' default).
OPENAI_VIT_B16_PATH = '~/.cache/clip/ViT-B-16.pt'
#: The same weights in Hugging Face's format.
HF_VIT_B16_REPO = 'openai/clip-vit-base-patch16'

#: Entries of OpenAI's state dict that are no tensor of either tower.
_SCALARS = ('input_resolution', 'context_length', 'vocab_size')

_BLOCK_MAP = {
    'ln_1': 'ln1',
    'attn.in_proj_weight': 'attn.qkv.weight',
    'attn.in_proj_bias': 'attn.qkv.bias',
    'attn.out_proj': 'attn.proj',
    'ln_2': 'ln2',
    'mlp.c_fc': 'ffn.layers.0.0',
    'mlp.c_proj': 'ffn.layers.1',
}
_TOP_MAP = {
    'conv1.weight': 'patch_embed.projection.weight',
    'ln_pre.weight': 'pre_norm.weight',
    'ln_pre.bias': 'pre_norm.bias',
    'ln_post.weight': 'ln1.weight',
    'ln_post.bias': 'ln1.bias',
    'proj': 'proj',
}


def openai_visual_key_to_reid_vit(key: str) -> str:
    """mmpretrain (``ReIDViT``) name of one OpenAI visual key (without the
    ``visual.`` prefix), or '' for a key that has none.

    Args:
        key (str): E.g. ``'transformer.resblocks.3.mlp.c_fc.weight'``.

    Returns:
        str: E.g. ``'layers.3.ffn.layers.0.0.weight'``.
    """
    if key == 'class_embedding':
        return 'cls_token'
    if key == 'positional_embedding':
        return 'pos_embed'
    if key in _TOP_MAP:
        return _TOP_MAP[key]
    m = re.fullmatch(r'transformer\.resblocks\.(\d+)\.(.+)', key)
    if m:
        layer, rest = m.groups()
        for old, new in _BLOCK_MAP.items():
            if rest == old or rest.startswith(old + '.'):
                return f'layers.{layer}.{new}{rest[len(old):]}'
    return ''


def openai_visual_to_reid_vit(state_dict: Mapping[str, Tensor],
                              source: str = 'the state dict'
                              ) -> 'OrderedDict[str, Tensor]':
    """Rename (and reshape) OpenAI's CLIP visual tensors for ``ReIDViT``.

    Args:
        state_dict (Mapping[str, Tensor]): OpenAI-named tensors: the whole
            CLIP model (visual keys prefixed ``visual.``; the others are
            ignored) or the visual tower alone (no prefix).
        source (str): Named in errors. Defaults to 'the state dict'.

    Returns:
        OrderedDict[str, Tensor]: ``ReIDViT`` state dict (``cls_token``
        (1, 1, D), ``pos_embed`` (1, L, D) at the file's grid; the rest as
        in the file, dtype unchanged).

    Raises:
        CheckpointMismatchError: No visual ViT tensor in ``state_dict`` (a
            ResNet CLIP, another model), or a visual key of no known place
            (all of them named).
    """
    prefix = 'visual.' if any(
        k.startswith('visual.') for k in state_dict) else ''
    out, unknown = OrderedDict(), []
    for full_key, value in state_dict.items():
        if not full_key.startswith(prefix) or full_key in _SCALARS:
            continue  # the text tower, logit_scale, the scalar entries
        new = openai_visual_key_to_reid_vit(full_key[len(prefix):])
        if not new:
            unknown.append(full_key)
            continue
        if new == 'cls_token':
            value = value.reshape(1, 1, -1)
        elif new == 'pos_embed':
            value = value.reshape(1, *value.shape[-2:])
        out[new] = value
    if unknown or 'cls_token' not in out:
        raise CheckpointMismatchError(
            f'{source} does not hold the visual tower of a ViT CLIP model in '
            f"OpenAI's names (visual.class_embedding, visual.conv1.weight, "
            'visual.transformer.resblocks.N...); '
            + (f'keys of no known place: {", ".join(unknown[:10])}'
               f'{" ..." if len(unknown) > 10 else ""}' if unknown else
               f'its keys start with {sorted(state_dict)[:5]}'))
    return out


def read_openai_clip(path: str) -> Dict[str, Tensor]:
    """OpenAI-named CLIP visual tensors of a file, read without running its
    code (:func:`mmieee.utils.load_clip_visual_weights`: OpenAI's TorchScript
    ``ViT-B-16.pt``, an OpenAI-named ``torch.save`` state dict, Hugging
    Face's ``model.safetensors`` or ``pytorch_model.bin``).

    Args:
        path (str): The file.

    Returns:
        dict[str, Tensor]: ``visual.*`` tensors in float32 (the official
        loader's ``convert_weights`` casts to float32, despite its name).
    """
    return load_clip_visual_weights(path, dtype=torch.float32)


@WEIGHT_INITIALIZERS.register_module()
class CLIPVisualPretrained(PretrainedInit):
    """``init_cfg`` of a ``ReIDViT`` that loads OpenAI's CLIP visual tower
    as DeMo's official loader (module docstring).

    Config (inside the stream's backbone config)::

        init_cfg=dict(type='CLIPVisualPretrained',
                      checkpoint='~/.cache/clip/ViT-B-16.pt')

    ``ReIDViT`` applies it after its random initialisation (as mmengine
    does for ``Pretrained``), so that only the camera embedding keeps
    random values.

    Args:
        checkpoint (str): OpenAI's ``ViT-B-16.pt``, the Hugging Face
            ``model.safetensors`` of ``openai/clip-vit-base-patch16``, or a
            plain state dict of OpenAI-named tensors. ``~`` is expanded.
            Defaults to ``OPENAI_VIT_B16_PATH``.
        map_location (str): Unused (tensors are read on the CPU); kept for
            mmengine's ``Pretrained`` interface. Defaults to 'cpu'.
    """

    #: Applied after the module's own initialisation (as ``Pretrained``):
    #: :class:`ReIDViT` and :class:`MultiStreamBackbone` look for it.
    loads_weights = True

    #: ReIDViT keys the file does not provide (they keep their init).
    NOT_IN_FILE = ('camera_embed', )

    def __init__(self,
                 checkpoint: str = OPENAI_VIT_B16_PATH,
                 map_location: str = 'cpu') -> None:
        super().__init__(checkpoint=checkpoint, map_location=map_location)

    def missing_file_message(self, path: str) -> str:
        """Where the file comes from and where it goes."""
        return (
            f'CLIP ViT-B/16 weights not found: {path} (init_cfg.checkpoint '
            'of the backbone stream). Download OpenAI\'s file, the one the '
            f'official DeMo code loads, from {OPENAI_VIT_B16_URL} to '
            f'{OPENAI_VIT_B16_PATH} (where OpenAI\'s clip.load keeps it), or '
            'set --cfg-options model.backbone.backbone.init_cfg.checkpoint='
            '<path> to that file or to the model.safetensors of '
            f'https://huggingface.co/{HF_VIT_B16_REPO} (docs/demo.md, '
            '"Pretrained weights").')

    def __call__(self, module: nn.Module) -> None:
        path = osp.expanduser(str(self.checkpoint))
        if not osp.isfile(path):
            raise ConfigError(self.missing_file_message(path))
        state_dict = openai_visual_to_reid_vit(read_openai_clip(path), path)
        try:
            result = module.load_state_dict(state_dict, strict=False)
        except RuntimeError as err:  # shapes: another architecture
            raise CheckpointMismatchError(
                f'{path} does not fit {type(module).__name__}: {err}') from err
        missing = [
            k for k in result.missing_keys if k not in self.NOT_IN_FILE
        ]
        if missing or result.unexpected_keys:
            raise CheckpointMismatchError(
                f'{path} does not fit {type(module).__name__}: missing '
                f'{missing}, unexpected {result.unexpected_keys}')
        print_log(
            f'Loaded the CLIP visual encoder from {path} '
            f'({len(state_dict)} tensors; position embedding resized to the '
            'patch grid where needed)',
            logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        return f'{type(self).__name__}: load from {self.checkpoint}'
