# Copyright (c) mmieee contributors.
"""Token Permutation Module (TPM) of TOP-ReID (Wang et al., "TOP-ReID:
Multi-spectral Object Re-Identification with Token Permutation", AAAI 2024,
§ "Token Permutation Module", Fig. 2; official code
``modeling/fusion_part/TPM.py`` of github.com/924973292/TOP-ReID).

Input: the M streams' token maps (B, 1 + N, C), class token first. Only the
class tokens change; patch tokens are only read. One step updates every
modality's class token with a cross-attention block whose query is that
class token and whose keys / values are the *patch tokens of another
modality*:

* step 1 (``blocks[0]``, the official ``Ro_start``): modality ``m`` reads the
  patches of ``(m + 1) % M``;
* step 2 (``blocks[1]``, ``Ro_middle``): ``m`` reads ``(m - 1) % M``;
* step 3 (``blocks[2]``, ``Ro_end``): ``m`` reads its own patches.

For M = 3 in the order (RGB, NI, TI) this is the official cycle: step 1
R <- N, N <- T, T <- R; step 2 R <- T, T <- N, N <- R (every update of a
step uses the class tokens of the previous step); step 3 each its own. The
three blocks have their own weights; within a step one block serves every
modality. The output is the concatenation of the M final class tokens,
(B, M * C), in modality order: TOP-ReID's test feature.

One block (the official ``RotationAttention``), pre-norm as a transformer
layer, on a class token ``c`` (B, C) and patches ``p`` (B, N, C)::

    c = c + proj(softmax(q(ln1(c)) k(ln_kv(p))^T / sqrt(d)) v(p))
    c = c + fc2(gelu(fc1(ln2(c))))

with bias-free ``q``, ``k``, ``v``; the keys come from a LayerNorm'd copy of
the patches, the values from the patches themselves (as officially).
LayerNorm eps 1e-5, no dropout (the official module hard-codes 0).

Written by hand (attention by ``F.scaled_dot_product_attention``, the MLP
is mmcv's ``FFN``): no library attention computes keys and values from two
versions of the same tokens.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import BaseModule, ModuleList
from torch import nn

from mmieee.registry import MODELS
from mmieee.utils.arg_checks import check_int

from ..backbones.reid_vit import deterministic_attention


class CrossTokenAttention(nn.Module):
    """Multi-head attention of one query token over a set of tokens: keys
    from ``ln_kv(tokens)``, values from ``tokens`` (official
    ``CrossAttention``).

    Args:
        embed_dims (int): C.
        num_heads (int): Heads; C must be divisible by it.
    """

    def __init__(self, embed_dims: int, num_heads: int) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'CrossTokenAttention: embed_dims={embed_dims} '
                             f'is not divisible by num_heads={num_heads}')
        self.num_heads = num_heads
        self.ln_kv = nn.LayerNorm(embed_dims)
        self.q = nn.Linear(embed_dims, embed_dims, bias=False)
        self.k = nn.Linear(embed_dims, embed_dims, bias=False)
        self.v = nn.Linear(embed_dims, embed_dims, bias=False)
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, query: torch.Tensor,
                tokens: torch.Tensor) -> torch.Tensor:
        """Attend.

        Args:
            query (Tensor): (B, C), already normalised by the caller.
            tokens (Tensor): (B, N, C).

        Returns:
            Tensor: (B, C).
        """
        b, n, c = tokens.shape
        h = self.num_heads
        q = self.q(query).reshape(b, 1, h, c // h).transpose(1, 2)
        k = self.k(self.ln_kv(tokens)).reshape(b, n, h, c // h).transpose(1, 2)
        v = self.v(tokens).reshape(b, n, h, c // h).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, h, 1, d)
        return self.proj(out.transpose(1, 2).reshape(b, c))


class TokenPermutationBlock(nn.Module):
    """Class token <- patches of one modality (official
    ``RotationAttention``; formula in the module docstring).

    Args:
        embed_dims (int): C.
        num_heads (int): Attention heads.
        feedforward_channels (int): Hidden width of the MLP.
    """

    def __init__(self, embed_dims: int, num_heads: int,
                 feedforward_channels: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(embed_dims)
        self.attn = CrossTokenAttention(embed_dims, num_heads)
        self.ln2 = nn.LayerNorm(embed_dims)
        # mmcv's FFN: fc1 -> GELU -> fc2, plus the identity (the residual)
        self.ffn = FFN(
            embed_dims=embed_dims,
            feedforward_channels=feedforward_channels,
            num_fcs=2,
            ffn_drop=0.,
            act_cfg=dict(type='GELU'))

    def forward(self, cls_token: torch.Tensor,
                patches: torch.Tensor) -> torch.Tensor:
        """(B, C) class token, (B, N, C) patches -> (B, C) class token."""
        cls_token = cls_token + self.attn(self.ln1(cls_token), patches)
        return self.ffn(self.ln2(cls_token), identity=cls_token)


@MODELS.register_module()
class TokenPermutation(BaseModule):
    """TOP-ReID's Token Permutation Module (module docstring).

    Submodule names (relied on by
    ``tools/model_converters/topreid_official_to_mmieee.py``):
    ``blocks.{0,1,2}.{ln1, attn.{ln_kv, q, k, v, proj}, ln2,
    ffn.layers.{0.0, 1}}``.

    Args:
        num_modalities (int): M. Defaults to 3.
        embed_dims (int): C, the streams' token width. Defaults to 768.
        num_heads (int): Attention heads. Defaults to 12.
        feedforward_channels (int): MLP hidden width. Defaults to 3072.
        init_cfg (dict, optional): mmengine init config; None keeps
            PyTorch's default initialisation of every layer, as the official
            module (its ``_init_weights`` is never applied). Defaults to
            None.
    """

    #: Which modality's patches each step reads, relative to the class
    #: token's own modality (the official cycle for M = 3).
    STEP_OFFSETS = (1, -1, 0)

    def __init__(self,
                 num_modalities: int = 3,
                 embed_dims: int = 768,
                 num_heads: int = 12,
                 feedforward_channels: int = 3072,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_int(type(self).__name__, 'num_modalities', num_modalities, 2)
        self.num_modalities = num_modalities
        self.embed_dims = embed_dims
        self.out_channels = num_modalities * embed_dims
        self.blocks = ModuleList([
            TokenPermutationBlock(embed_dims, num_heads,
                                  feedforward_channels)
            for _ in self.STEP_OFFSETS
        ])

    def init_weights(self) -> None:
        """PyTorch's default initialisation of every layer (the official
        one), unless an ``init_cfg`` says otherwise."""
        if self.init_cfg:
            super().init_weights()
            return
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.LayerNorm)):
                module.reset_parameters()

    def forward(self, tokens: Sequence[torch.Tensor]) -> torch.Tensor:
        """Permute, then concatenate the class tokens.

        Args:
            tokens (Sequence[Tensor]): M token maps (B, 1 + N, C), class
                token first, in modality order.

        Returns:
            Tensor: (B, M * C).
        """
        num = self.num_modalities
        if len(tokens) != num:
            raise ValueError(f'TokenPermutation was built for {num} '
                             f'modalities, got {len(tokens)} token maps')
        for m, t in enumerate(tokens):
            if t.dim() != 3 or t.shape[-1] != self.embed_dims:
                raise ValueError(
                    f'TokenPermutation: token map {m} has shape '
                    f'{tuple(t.shape)}, expected (B, 1 + N, '
                    f'{self.embed_dims})')
        patches = [t[:, 1:] for t in tokens]
        cls: List[torch.Tensor] = [t[:, 0] for t in tokens]
        with deterministic_attention():
            for block, offset in zip(self.blocks, self.STEP_OFFSETS):
                cls = [
                    block(cls[m], patches[(m + offset) % num])
                    for m in range(num)
                ]
        return torch.cat(cls, dim=1)
