# Copyright (c) mmieee contributors.
"""Relation-based embedding module, REM (paper Eq. 3-4).

Embeds the global feature g of a modality into each of its P part features
p_i. Two variants are selectable from config:

``variant='official'`` -- what the released code computes, and the variant
that produced the paper's numbers::

    embed_i = p_i + gamma * 2 * (W g + b)

with one learnable scalar ``gamma`` initialised to 0. (The released module
also holds query/value projections, but its "similarity" is a softmax over a
single element, i.e. the constant 1, so they never affect the output; they
are not created here.)

``variant='paper'`` -- Eq. 3-4 as written::

    f'_p_i = W1 p_i,  f'_g = W2 g,  f''_g = W3 g
    V_sim_i = similarity(f'_p_i, f'_g)                      # Eq. 3
    embed_i = p_i + (g + V_sim_i * f''_g)                   # Eq. 4

The text says "dot product ... followed by softmax" while Eq. 3 writes an
element-wise product; a softmax over one scalar is constant, so the text
cannot be taken literally. Two readings are offered, both *interpretations*:

- ``similarity='dot'`` (default): V_sim_i = <f'_p_i, f'_g> is a scalar per
  part, normalised with a softmax across the P parts (how strongly each part
  relates to the global feature, relative to the other parts);
- ``similarity='hadamard'``: V_sim_i = f'_p_i ⊙ f'_g is a C-vector,
  normalised with a softmax across the C channels, and multiplies f''_g
  element-wise.

No 1/sqrt(C) temperature is applied: the paper does not mention one.
"""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import nn

from mmieee.registry import MODELS

_VARIANTS = ('official', 'paper')
_SIMILARITIES = ('dot', 'hadamard')


@MODELS.register_module()
class RelationEmbedding(BaseModule):
    """REM for one modality.

    Submodules / parameters (names relied on by the official-checkpoint
    converter): official variant: ``gamma`` (shape (1,), init 0) and
    ``global_proj`` (Linear C -> C, bias); paper variant: ``part_proj`` (W1),
    ``global_key`` (W2), ``global_value`` (W3), each Linear C -> C with bias.

    Args:
        channels (int): C, the part/global feature size. Defaults to 768.
        variant (str): ``'official'`` or ``'paper'``. Defaults to
            ``'official'``.
        similarity (str): Paper variant only: ``'dot'`` or ``'hadamard'``.
            Defaults to ``'dot'``.
        init_cfg (dict, optional): mmengine init config. Defaults to None
            (PyTorch's default Linear init, as in the official code).
    """

    def __init__(self,
                 channels: int = 768,
                 variant: str = 'official',
                 similarity: str = 'dot',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if variant not in _VARIANTS:
            raise ValueError(f'RelationEmbedding: variant must be one of '
                             f'{_VARIANTS}, got {variant!r}')
        if similarity not in _SIMILARITIES:
            raise ValueError(f'RelationEmbedding: similarity must be one of '
                             f'{_SIMILARITIES}, got {similarity!r}')
        self.channels = channels
        self.variant = variant
        self.similarity = similarity
        if variant == 'official':
            self.gamma = nn.Parameter(torch.zeros(1))
            self.global_proj = nn.Linear(channels, channels)
        else:
            self.part_proj = nn.Linear(channels, channels)
            self.global_key = nn.Linear(channels, channels)
            self.global_value = nn.Linear(channels, channels)

    def forward(self, parts: torch.Tensor,
                global_feat: torch.Tensor) -> torch.Tensor:
        """Embed the global feature into every part.

        Args:
            parts (Tensor): (B, P, C) part features p_i.
            global_feat (Tensor): (B, C) global feature g.

        Returns:
            Tensor: (B, P, C) embedded part features.
        """
        if self.variant == 'official':
            return parts + (self.gamma * 2 *
                            self.global_proj(global_feat)).unsqueeze(1)

        key = self.global_key(global_feat).unsqueeze(1)  # (B, 1, C)
        value = self.global_value(global_feat).unsqueeze(1)  # (B, 1, C)
        query = self.part_proj(parts)  # (B, P, C)
        if self.similarity == 'dot':
            # (B, P, 1): one weight per part, softmax across the P parts.
            sim = (query * key).sum(-1, keepdim=True).softmax(dim=1)
        else:
            # (B, P, C): one weight per channel, softmax across channels.
            sim = (query * key).softmax(dim=-1)
        f_sim = global_feat.unsqueeze(1) + sim * value
        return parts + f_sim
