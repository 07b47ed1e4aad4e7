# Copyright (c) mmieee contributors.
"""Complementary Reconstruction Module (CRM) of TOP-ReID (Wang et al., AAAI
2024, § "Complementary Reconstruction Module"; official code
``modeling/fusion_part/CRM.py`` of github.com/924973292/TOP-ReID).

For every ordered pair of modalities (s, t), s != t, a reconstruction unit
``units['s_to_t']`` maps the whole token map of s (B, 1 + N, C) to one of t:
``num_layers`` pre-norm transformer layers (mmpretrain's
``TransformerEncoderLayer``: self-attention WITHOUT qkv bias, MLP 4C, GELU,
LayerNorm eps 1e-5, no dropout). For M = 3 in the order (RGB, NI, TI) the
six units are the official ``RGBRE.re1`` (RGB -> NI), ``RGBRE.re2``
(RGB -> TI), ``NIRE.re1`` (NI -> RGB), ``NIRE.re2`` (NI -> TI),
``TIRE.re1`` (TI -> RGB) and ``TIRE.re2`` (TI -> NI).

* Training (:meth:`loss`): the sum over the M (M - 1) pairs of
  ``MSE(units['s_to_t'](X_s), X_t)`` (mean over all elements), with both
  token maps taken as they are (not detached: the gradient reaches the
  source and the target stream), as officially.
* Missing modalities (:meth:`reconstruct`, the official ``TEST.MISS``):
  the token map of each missing t is replaced, class token included, by the
  mean over the present modalities s of ``units['s_to_t'](X_s)``. For
  M = 3 this is exactly the official rule: one missing modality is the
  average of its two reconstructions, two missing ones each come from the
  one present modality. The missing modality's own tokens are not used.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule, ModuleDict, Sequential
from mmpretrain.models.backbones.vision_transformer import \
    TransformerEncoderLayer
from torch import nn

from mmieee.registry import MODELS
from mmieee.utils.arg_checks import check_int

from ..backbones.reid_vit import deterministic_attention


def unit_name(source: int, target: int) -> str:
    """Key of the unit that reconstructs modality ``target`` from
    ``source`` (modality indices)."""
    return f'{source}_to_{target}'


@MODELS.register_module()
class ComplementaryReconstruction(BaseModule):
    """TOP-ReID's Complementary Reconstruction Module (module docstring).

    Submodule names (relied on by
    ``tools/model_converters/topreid_official_to_mmieee.py``):
    ``units.{s}_to_{t}.{layer}.{ln1, attn.{qkv, proj}, ln2,
    ffn.layers.{0.0, 1}}``.

    Args:
        num_modalities (int): M. Defaults to 3.
        embed_dims (int): C. Defaults to 768.
        num_heads (int): Attention heads. Defaults to 12.
        feedforward_channels (int): MLP hidden width. Defaults to 3072.
        num_layers (int): Transformer layers per unit (the official
            ``RE_LAYER``). Defaults to 1.
        init_cfg (dict, optional): mmengine init config; None gives every
            layer PyTorch's default initialisation, as the official module.
            Defaults to None.
    """

    def __init__(self,
                 num_modalities: int = 3,
                 embed_dims: int = 768,
                 num_heads: int = 12,
                 feedforward_channels: int = 3072,
                 num_layers: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_int(type(self).__name__, 'num_modalities', num_modalities, 2)
        check_int(type(self).__name__, 'num_layers', num_layers)
        self.num_modalities = num_modalities
        self.embed_dims = embed_dims
        self.units = ModuleDict({
            unit_name(s, t): Sequential(*[
                TransformerEncoderLayer(
                    embed_dims=embed_dims,
                    num_heads=num_heads,
                    feedforward_channels=feedforward_channels,
                    qkv_bias=False,
                    norm_cfg=dict(type='LN', eps=1e-5))
                for _ in range(num_layers)
            ])
            for s in range(num_modalities) for t in range(num_modalities)
            if s != t
        })

    def init_weights(self) -> None:
        """PyTorch's default initialisation of every layer (mmpretrain's
        layers would re-draw their MLPs with Xavier), unless an
        ``init_cfg`` says otherwise."""
        if self.init_cfg:
            super().init_weights()
            return
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.LayerNorm)):
                module.reset_parameters()

    def _check(self, tokens: Sequence[torch.Tensor]) -> None:
        if len(tokens) != self.num_modalities:
            raise ValueError(
                f'ComplementaryReconstruction was built for '
                f'{self.num_modalities} modalities, got {len(tokens)} '
                'token maps')

    def rebuild(self, source: int, target: int,
                tokens: torch.Tensor) -> torch.Tensor:
        """Reconstruct modality ``target`` from the (B, 1 + N, C) token map
        of ``source``; returns (B, 1 + N, C)."""
        with deterministic_attention():
            return self.units[unit_name(source, target)](tokens)

    def pair_losses(self, tokens: Sequence[torch.Tensor]
                    ) -> Dict[str, torch.Tensor]:
        """The reconstruction loss of every pair.

        Args:
            tokens (Sequence[Tensor]): M token maps (B, 1 + N, C).

        Returns:
            dict[str, Tensor]: ``'s_to_t'`` -> MSE (scalar), in the official
            order (sources in modality order, then targets).
        """
        self._check(tokens)
        return {
            unit_name(s, t): F.mse_loss(self.rebuild(s, t, tokens[s]),
                                        tokens[t])
            for s in range(self.num_modalities)
            for t in range(self.num_modalities) if s != t
        }

    def loss(self, tokens: Sequence[torch.Tensor]) -> torch.Tensor:
        """The CRM loss: the sum of :meth:`pair_losses` (weight 1 each)."""
        return sum(self.pair_losses(tokens).values())

    def reconstruct(self, tokens: Sequence[torch.Tensor],
                    missing: Sequence[int]) -> List[torch.Tensor]:
        """Replace the token maps of the missing modalities.

        Args:
            tokens (Sequence[Tensor]): M token maps (B, 1 + N, C); those of
                the missing modalities are not read.
            missing (Sequence[int]): Indices of the missing modalities, a
                non-empty proper subset of ``range(M)``.

        Returns:
            list[Tensor]: M token maps, the missing ones reconstructed.

        Raises:
            ValueError: ``missing`` is empty, has every modality, or holds
                an index outside ``range(M)``.
        """
        self._check(tokens)
        num = self.num_modalities
        missing = sorted(set(int(i) for i in missing))
        if not missing or len(missing) == num or \
                not all(0 <= i < num for i in missing):
            raise ValueError(
                f'ComplementaryReconstruction: missing modalities {missing} '
                f'must be a non-empty proper subset of range({num}) (at '
                'least one modality must be present to reconstruct from)')
        present = [s for s in range(num) if s not in missing]
        out = list(tokens)
        for t in missing:
            rebuilt = [self.rebuild(s, t, tokens[s]) for s in present]
            out[t] = sum(rebuilt) / len(rebuilt)
        return out
