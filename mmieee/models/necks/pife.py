# Copyright (c) mmieee contributors.
"""Patch-Integrated Feature Extractor, PIFE (Wang et al., "DeMo: Decoupled
Feature-Based Mixture of Experts for Multi-Modal Object Re-Identification",
AAAI 2025, § "Patch-Integrated Feature Extractor").

Reproduces the ``GLOBAL_LOCAL`` reduce of the official code
(``modeling/make_model.py`` of github.com/924973292/DeMo: ``rgb_reduce`` /
``nir_reduce`` / ``tir_reduce``). For each modality ``m``, with the encoder's
tokens ``t_m`` = [class token; N patch tokens], each (B, D)::

    local_m  = mean over the N patch tokens of t_m
    global_m = QuickGELU(Linear_{2D -> D}(LayerNorm_{2D}([cls_m ; local_m])))

The class token comes first in the concatenation, the patch mean second;
the LayerNorm's eps is torch's default 1e-5; every modality has its own
LayerNorm and Linear (they are not shared, unlike the encoder).
"""
from typing import List, Sequence

import torch
from mmengine.model import BaseModule, ModuleList
from mmpretrain.models.utils import QuickGELU
from torch import nn

from mmieee.registry import MODELS
from mmieee.utils.arg_checks import check_int


@MODELS.register_module()
class PIFE(BaseModule):
    """One global feature per modality from its class and patch tokens.

    Submodules (names relied on by the official-checkpoint converter):
    ``reduces.{m}`` = ``nn.Sequential(LayerNorm(2D), Linear(2D, D),
    QuickGELU())`` (official ``rgb_reduce`` / ``nir_reduce`` /
    ``tir_reduce`` for m = 0, 1, 2).

    Args:
        embed_dims (int): D, the token size (512 for CLIP ViT-B/16).
            Defaults to 512.
        num_modalities (int): M. Defaults to 3.
        init_cfg (dict, optional): mmengine init config. Defaults to None
            (torch's default initialisation, as officially).
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_modalities: int = 3,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('embed_dims', embed_dims),
                            ('num_modalities', num_modalities)):
            check_int('PIFE', name, value)
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.reduces = ModuleList([
            nn.Sequential(
                nn.LayerNorm(2 * embed_dims),
                nn.Linear(2 * embed_dims, embed_dims), QuickGELU())
            for _ in range(num_modalities)
        ])

    def forward(self, tokens: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Reduce each modality's class token and patch mean.

        Args:
            tokens (Sequence[Tensor]): M tensors (B, 1 + N, D), class token
                first (the encoder's output).

        Returns:
            list[Tensor]: M global features (B, D).
        """
        if len(tokens) != self.num_modalities:
            raise ValueError(f'PIFE was built for {self.num_modalities} '
                             f'modalities, got {len(tokens)} token maps')
        out = []
        for reduce, t in zip(self.reduces, tokens):
            if t.dim() != 3 or t.shape[1] < 2 or \
                    t.shape[2] != self.embed_dims:
                raise ValueError(
                    'PIFE expects tokens (B, 1 + N, D) with N >= 1 and D = '
                    f'embed_dims = {self.embed_dims}, got {tuple(t.shape)}')
            local = t[:, 1:].mean(dim=1)
            out.append(reduce(torch.cat([t[:, 0], local], dim=-1)))
        return out
