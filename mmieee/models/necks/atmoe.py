# Copyright (c) mmieee contributors.
"""Attention-Triggered Mixture of Experts, ATMoE (Wang et al., "DeMo:
Decoupled Feature-Based Mixture of Experts for Multi-Modal Object
Re-Identification", AAAI 2025, § "Attention-Triggered Mixture of Experts").

Reproduces ``MoM`` with its ``GatingNetwork`` / ``CrossAttention`` gate and
``ExpertHead`` / ``Expert`` of the official code (``modeling/moe/AttnMOE.py``
of github.com/924973292/DeMo). Inputs: the E decoupled features
``h_1 .. h_E`` of HDM, each (B, D) (E = 7: R, N, T, RN, RT, NT, RNT). With H
heads of ``d = D / H`` channels:

* **gate** (dense, attention-derived; no top-k, no noise, no load
  balancing)::

      q = W_q BN(QuickGELU(Linear_{E*D -> D}([h_1 ; ... ; h_E])))   (B, D)
      k_e = W_k h_e                                                 (B, D)
      gate[b, h, e] = softmax_e(q_h . k_{e,h} / sqrt(d))            (B, H, E)

  where ``q_h`` / ``k_{e,h}`` are the h-th d-channel chunks and ``W_q``,
  ``W_k`` are bias-free D x D linears;
* **experts**: one per (head h, feature e), ``Linear(d, d) -> QuickGELU ->
  BatchNorm1d(d)``, applied to the h-th chunk of ``h_e``::

      out[b, e*D + h*d + c] =
          gate[b, h, e] * Expert_{h,e}(h_e[b, h*d:(h+1)*d])[c]

So the (B, E*D) output holds E blocks of D in the feature order, each block
made of the H head chunks in their original channel order, each chunk gated
by its own head's weight for that feature. There is no regularisation term:
the official ``MoM`` returns the constant loss 0 (scaled by
``reg_weight=0``).
"""
from typing import Tuple

import torch
from mmengine.model import BaseModule, ModuleList
from mmpretrain.models.utils import QuickGELU
from torch import nn

from mmieee.registry import MODELS
from mmieee.utils.arg_checks import check_int


def _mlp(dims_in: int, dims_out: int) -> nn.Sequential:
    """Linear -> QuickGELU -> BatchNorm1d (official ``Expert.mlp`` and
    ``CrossAttention.linear_re``)."""
    return nn.Sequential(
        nn.Linear(dims_in, dims_out), QuickGELU(), nn.BatchNorm1d(dims_out))


@MODELS.register_module()
class ATMoE(BaseModule):
    """Dense attention-gated mixture of head-chunk experts.

    Submodules (names relied on by the official-checkpoint converter;
    official names in brackets): ``gate_reduce`` (``gate.linear_re``:
    Linear(E*D, D), QuickGELU, BatchNorm1d(D)), ``gate_query``
    (``gate.q_``), ``gate_key`` (``gate.k_``), ``experts.{h}.{e}``
    (``experts.{h}.expertHead.{e}.mlp``).

    Args:
        embed_dims (int): D. Defaults to 512.
        num_experts (int): E, the number of decoupled features (7 for three
            modalities). Defaults to 7.
        num_heads (int): H (official ``MODEL.HEAD``: 4 for RGBNT201, 8 for
            the vehicle datasets). Defaults to 4.
        init_cfg (dict, optional): mmengine init config. Defaults to None
            (torch's default initialisation, as officially).
    """

    def __init__(self,
                 embed_dims: int = 512,
                 num_experts: int = 7,
                 num_heads: int = 4,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('embed_dims', embed_dims),
                            ('num_experts', num_experts),
                            ('num_heads', num_heads)):
            check_int('ATMoE', name, value)
        if embed_dims % num_heads:
            raise ValueError(f'ATMoE: embed_dims={embed_dims} is not '
                             f'divisible by num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.num_experts = num_experts
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.gate_reduce = _mlp(num_experts * embed_dims, embed_dims)
        self.gate_query = nn.Linear(embed_dims, embed_dims, bias=False)
        self.gate_key = nn.Linear(embed_dims, embed_dims, bias=False)
        self.experts = ModuleList([
            ModuleList([
                _mlp(self.head_dims, self.head_dims)
                for _ in range(num_experts)
            ]) for _ in range(num_heads)
        ])

    def gates(self, feats: torch.Tensor) -> torch.Tensor:
        """The attention-derived expert weights.

        Args:
            feats (Tensor): (B, E, D) decoupled features.

        Returns:
            Tensor: (B, H, E), summing to 1 over E.
        """
        batch = feats.shape[0]
        h, d = self.num_heads, self.head_dims
        query = self.gate_query(self.gate_reduce(feats.flatten(1)))
        query = query.reshape(batch, 1, h, d).transpose(1, 2)  # (B, H, 1, d)
        key = self.gate_key(feats).reshape(batch, self.num_experts, h,
                                           d).transpose(1, 2)  # (B, H, E, d)
        logits = (query @ key.transpose(-2, -1)) * d**-0.5  # (B, H, 1, E)
        return logits.softmax(dim=-1)[:, :, 0]

    def forward(self, feats: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Gate and mix the decoupled features.

        Args:
            feats (Tensor): (B, E, D), feature e at ``[:, e]``.

        Returns:
            tuple[Tensor, Tensor]: The (B, E * D) mixture (layout in the
            module docstring) and the (B, H, E) gates.
        """
        if feats.dim() != 3 or feats.shape[1:] != (self.num_experts,
                                                   self.embed_dims):
            raise ValueError(
                f'ATMoE expects (B, E={self.num_experts}, '
                f'D={self.embed_dims}) features, got {tuple(feats.shape)}')
        gates = self.gates(feats)
        d = self.head_dims
        heads = []
        for h, experts in enumerate(self.experts):
            chunk = feats[:, :, h * d:(h + 1) * d]  # (B, E, d)
            out = torch.stack(
                [expert(chunk[:, e]) for e, expert in enumerate(experts)],
                dim=1)  # (B, E, d)
            heads.append(out * gates[:, h, :, None])
        return torch.cat(heads, dim=-1).flatten(1), gates
