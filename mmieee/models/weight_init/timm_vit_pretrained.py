# Copyright (c) mmieee contributors.
"""ImageNet weights of a timm ViT checkpoint for a :class:`ReIDViT` stream:
the initialisation of TOP-ReID's streams (official
``modeling/backbones/vit_pytorch.py``, ``Trans.load_param``, of
github.com/924973292/TOP-ReID, with the file ``vitb_16_224_21k.pth`` of its
README: timm's ``jx_vit_base_p16_224`` ImageNet-21k ViT-B/16).

Usable wherever mmengine takes an ``init_cfg``::

    backbone=dict(type='MultiStreamBackbone',
                  backbone=dict(type='ReIDViT', ...),
                  init_cfg=dict(type='TimmViTPretrained',
                                checkpoint='pretrained/vitb_16_224_21k.pth'))

(``MultiStreamBackbone`` hands it to every stream, as a ``Pretrained``
config.) What it does, as the official ``load_param``:

* reads the file with mmieee's safe loader (tensors only), unwrapping a
  ``model`` / ``state_dict`` entry;
* skips the classifier (``head.*``), distillation (``dist*``) and
  pre-logits (``pre_logits.*``) keys;
* renames timm's keys to mmpretrain's (``patch_embed.proj`` ->
  ``patch_embed.projection``, ``blocks.i.norm1`` -> ``layers.i.ln1``,
  ``mlp.fc1`` -> ``ffn.layers.0.0``, ``norm`` -> ``ln1``, ...), reshaping
  a flattened patch-embedding weight to its conv form;
* resizes ``pos_embed`` from the file's square grid (14 x 14 for 224
  inputs) to the stream's grid (16 x 8 for 256 x 128 inputs) with bilinear
  interpolation, ``align_corners=False``, the class position kept (the
  stream's own load hook, mmpretrain's ``resize_pos_embed``);
* leaves what the file does not hold as initialised: the camera embedding
  (truncated normal, std 0.02) and an output projection.

Any other key of the file the stream lacks, any stream key the file lacks
(but those two), and any shape that differs (but ``pos_embed``) is an
error naming the key and the file. A missing file is an error naming the
file and where it goes (docs/topreid.md, "ImageNet weights"); the training
tool checks it before anything is built.
"""
import os.path as osp
import re
from typing import Dict, List, Tuple

import torch
from mmengine.logging import print_log
from torch import nn

from mmieee.registry import WEIGHT_INITIALIZERS
from mmieee.utils.errors import ConfigError
from mmieee.utils.safe_checkpoint import load_from_local

#: Where the docs say the file goes.
DOCS = 'docs/topreid.md, "ImageNet weights"'

#: (timm key pattern, mmpretrain key) for one block / the rest.
_RENAMES = (
    (r'patch_embed\.proj\.(weight|bias)', r'patch_embed.projection.\1'),
    (r'blocks\.(\d+)\.norm1\.', r'layers.\1.ln1.'),
    (r'blocks\.(\d+)\.norm2\.', r'layers.\1.ln2.'),
    (r'blocks\.(\d+)\.attn\.', r'layers.\1.attn.'),
    (r'blocks\.(\d+)\.mlp\.fc1\.', r'layers.\1.ffn.layers.0.0.'),
    (r'blocks\.(\d+)\.mlp\.fc2\.', r'layers.\1.ffn.layers.1.'),
    (r'norm\.(weight|bias)', r'ln1.\1'),
)

#: File keys that are not part of the ViT trunk (skipped, as officially).
_SKIPPED = re.compile(r'(head|dist|pre_logits)')

#: Stream parameters the file does not provide (kept as initialised).
KEPT = ('camera_embed', 'proj')


def timm_to_mmpretrain(key: str) -> str:
    """The mmpretrain ``VisionTransformer`` name of a timm ViT key (keys
    without a rule, e.g. ``cls_token``, keep their name)."""
    for pattern, repl in _RENAMES:
        new, count = re.subn('^' + pattern, repl, key)
        if count:
            return new
    return key


def convert_timm_vit(state_dict: Dict[str, torch.Tensor],
                     patch_weight_shape: Tuple[int, ...]
                     ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Rename a timm ViT state dict to mmpretrain's names.

    Args:
        state_dict (dict[str, Tensor]): timm keys.
        patch_weight_shape (tuple[int]): The stream's conv patch-embedding
            weight shape (C, 3, ph, pw), for flattened file weights.

    Returns:
        tuple: The renamed state dict and the skipped keys.
    """
    out, skipped = {}, []
    for key, value in state_dict.items():
        if _SKIPPED.match(key):
            skipped.append(key)
            continue
        new = timm_to_mmpretrain(key)
        if new == 'patch_embed.projection.weight' and value.dim() < 4:
            value = value.reshape(patch_weight_shape)
        out[new] = value
    return out, skipped


@WEIGHT_INITIALIZERS.register_module()
class TimmViTPretrained:
    """Load a timm ViT checkpoint into a :class:`ReIDViT` (module
    docstring).

    Args:
        checkpoint (str): Path of the local file (e.g.
            ``pretrained/vitb_16_224_21k.pth``).
        map_location (str): Where tensors are read to. Defaults to 'cpu'.
    """

    #: Applied after the module's own initialisation (as ``Pretrained``):
    #: :class:`ReIDViT` and :class:`MultiStreamBackbone` look for it.
    loads_weights = True

    def __init__(self, checkpoint: str, map_location: str = 'cpu') -> None:
        self.checkpoint = checkpoint
        self.map_location = map_location

    def _read(self) -> Dict[str, torch.Tensor]:
        if not osp.isfile(osp.expanduser(self.checkpoint)):
            raise ConfigError(
                f'ImageNet weights file {self.checkpoint!r} does not exist: '
                'download vitb_16_224_21k.pth (timm\'s ImageNet-21k '
                'ViT-B/16, the file of the official TOP-ReID README) and '
                f'put it there, see {DOCS}; or remove the init_cfg to train '
                'from scratch')
        ckpt = load_from_local(self.checkpoint,
                               map_location=self.map_location)
        for key in ('model', 'state_dict'):
            if isinstance(ckpt, dict) and key in ckpt:
                ckpt = ckpt[key]
        if not isinstance(ckpt, dict) or not all(
                isinstance(v, torch.Tensor) for v in ckpt.values()):
            raise ConfigError(f'{self.checkpoint}: expected a state dict of '
                              'tensors (timm ViT layout)')
        return ckpt

    def __call__(self, module: nn.Module) -> None:
        if not all(hasattr(module, a)
                   for a in ('patch_embed', 'layers', 'pos_embed')):
            raise TypeError(
                f'TimmViTPretrained initialises a ViT stream (ReIDViT), not '
                f'{type(module).__name__}; put it in the stream\'s or the '
                'MultiStreamBackbone\'s init_cfg')
        own = module.state_dict()
        weights, skipped = convert_timm_vit(
            self._read(), own['patch_embed.projection.weight'].shape)
        unexpected = sorted(set(weights) - set(own))
        missing = sorted(k for k in set(own) - set(weights)
                         if k.split('.')[0] not in KEPT)
        wrong = sorted(
            k for k in set(weights) & set(own)
            if k != 'pos_embed' and weights[k].shape != own[k].shape)
        problems = []
        if unexpected:
            problems.append(f'keys the stream lacks: {unexpected}')
        if missing:
            problems.append(f'stream keys the file lacks: {missing}')
        for key in wrong:
            problems.append(f'{key}: {tuple(weights[key].shape)} in the file, '
                            f'{tuple(own[key].shape)} in the stream')
        if problems:
            raise ConfigError(
                f'{self.checkpoint} does not fit the {type(module).__name__} '
                'stream (timm ViT layout expected): ' + '; '.join(problems))
        before = module.pos_embed.shape
        grid = weights['pos_embed'].shape
        # strict=False only for KEPT: everything else was checked above;
        # the stream's load hook resizes pos_embed (bilinear).
        module.load_state_dict(weights, strict=False)
        note = f'; pos_embed resized {tuple(grid)} -> {tuple(before)}' \
            if grid != before else ''
        print_log(
            f'{type(module).__name__}: {len(weights)} tensors loaded from '
            f'{self.checkpoint}{note}; skipped {skipped}; kept as '
            f'initialised: {[k for k in own if k.split(".")[0] in KEPT]}',
            logger='current')
