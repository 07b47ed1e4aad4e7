# Copyright (c) mmieee contributors.
"""Hierarchical Decoupling Module, HDM (Wang et al., "DeMo: Decoupled
Feature-Based Mixture of Experts for Multi-Modal Object Re-Identification",
AAAI 2025, § "Hierarchical Decoupling Module").

Reproduces ``GeneralFusion.forward_HDM`` of the official code
(``modeling/moe/AttnMOE.py`` of github.com/924973292/DeMo). Every non-empty
combination ``c`` of the M modalities has a learnable query token ``q_c``
(D,) and its own ``nn.MultiheadAttention`` ``A_c`` (D // 64 heads, attention
dropout 0.1 in training, in-projection with bias). With ``s_m`` the sequence
of modality m, ``[g_m ; t_m]`` = the PIFE global feature followed by the N
patch tokens of the encoder, (1 + N, D)::

    h_c = A_c(query = q_c, key = value = concat_{m in c} s_m)      (B, D)

i.e. one query attends to all tokens of the modalities of its combination.
There is no norm and no residual around the attention. Combinations are
ordered by size, then lexicographically by modality index
(``itertools.combinations``): for (RGB, NI, TI) this is R, N, T, RN, RT,
NT, RNT, the official order (tokens ``r, n, t, rn, rt, nt, rnt``), so 7
features for three modalities (``2 ** M - 1`` in general).
"""
import itertools
from typing import List, Sequence, Tuple

import torch
from mmengine.model import BaseModule, ModuleList
from torch import nn

from mmieee.registry import MODELS
from mmieee.utils.arg_checks import check_int


def modality_combinations(num_modalities: int) -> List[Tuple[int, ...]]:
    """Every non-empty subset of ``range(num_modalities)``, by size, then
    lexicographically (the official HDM order for three modalities).

    Args:
        num_modalities (int): M.

    Returns:
        list[tuple[int, ...]]: ``2 ** M - 1`` tuples of modality indices.
    """
    return [
        combo for size in range(1, num_modalities + 1)
        for combo in itertools.combinations(range(num_modalities), size)
    ]


@MODELS.register_module()
class HDM(BaseModule):
    """One query token and one cross-attention per modality combination.

    Parameters / submodules (names relied on by the official-checkpoint
    converter): ``queries`` (K, D), row k = the query token of combination
    k (official ``r_token`` ... ``rnt_token``, each (1, 1, D)), and
    ``attentions.{k}`` (``nn.MultiheadAttention``; official ``r`` ...
    ``rnt``), K = ``2 ** M - 1``.

    Args:
        embed_dims (int): D. Defaults to 512.
        num_modalities (int): M. Defaults to 3.
        num_heads (int, optional): Attention heads; None gives the official
            ``D // 64`` (8 for D = 512). Defaults to None.
        dropout (float): Attention-weight dropout of every
            ``nn.MultiheadAttention`` in training (official 0.1); set the
            modules' ``dropout`` attribute to 0 to switch it off.
            Defaults to 0.1.
        init_cfg (dict, optional): mmengine init config. Defaults to None
            (query tokens ``D ** -0.5 * N(0, 1)``, attentions torch's
            default, as officially).
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_modalities: int = 3,
                 num_heads: int = None,
                 dropout: float = 0.1,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_heads is None:
            num_heads = max(embed_dims // 64, 1)
        for name, value in (('embed_dims', embed_dims),
                            ('num_modalities', num_modalities),
                            ('num_heads', num_heads)):
            check_int('HDM', name, value)
        if embed_dims % num_heads:
            raise ValueError(f'HDM: embed_dims={embed_dims} is not divisible '
                             f'by num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.combinations = modality_combinations(num_modalities)
        self.queries = nn.Parameter(
            embed_dims**-0.5 *
            torch.randn(len(self.combinations), embed_dims))
        self.attentions = ModuleList([
            nn.MultiheadAttention(embed_dims, num_heads, dropout=dropout)
            for _ in self.combinations
        ])

    @property
    def num_outputs(self) -> int:
        """K = 2 ** M - 1, the number of decoupled features."""
        return len(self.combinations)

    def forward(self, sequences: Sequence[torch.Tensor]) -> torch.Tensor:
        """Decouple the M modality sequences into K features.

        Args:
            sequences (Sequence[Tensor]): M tensors (B, L_m, D), the
                modality's global feature first, then its patch tokens.

        Returns:
            Tensor: (B, K, D), combination k at ``[:, k]``.
        """
        if len(sequences) != self.num_modalities:
            raise ValueError(f'HDM was built for {self.num_modalities} '
                             f'modalities, got {len(sequences)} sequences')
        for s in sequences:
            if s.dim() != 3 or s.shape[2] != self.embed_dims or \
                    s.shape[0] != sequences[0].shape[0]:
                raise ValueError(
                    'HDM expects M sequences (B, L, D) with one B and D = '
                    f'embed_dims = {self.embed_dims}, got shapes '
                    f'{[tuple(x.shape) for x in sequences]}')
        batch = sequences[0].shape[0]
        # nn.MultiheadAttention's (L, B, D) layout, as the official code
        seq_first = [s.transpose(0, 1) for s in sequences]
        outs = []
        for k, combo in enumerate(self.combinations):
            kv = torch.cat([seq_first[m] for m in combo], dim=0)
            query = self.queries[k].expand(1, batch, self.embed_dims)
            out, _ = self.attentions[k](query, kv, kv, need_weights=False)
            outs.append(out[0])  # (B, D)
        return torch.stack(outs, dim=1)
