# Copyright (c) mmieee contributors.
"""DeMo neck: PIFE -> HDM -> ATMoE (Wang et al., "DeMo: Decoupled
Feature-Based Mixture of Experts for Multi-Modal Object Re-Identification",
AAAI 2025, § "Method", Fig. 2).

Reproduces the part of ``DeMo.forward`` (``modeling/make_model.py`` of
github.com/924973292/DeMo) between the shared CLIP encoder and the BN necks,
with ``GLOBAL_LOCAL``, ``HDM`` and ``ATM`` all on by default. From the M
token maps ``t_m`` (B, 1 + N, D) of the encoder:

* ``g_m = PIFE(t_m)`` (B, D), or the class token ``t_m[:, 0]`` with
  ``pife=None`` (official ``GLOBAL_LOCAL=False``);
* ``ori = [g_1 ; ... ; g_M]`` (B, M*D): 1536-d for three 512-d modalities;
* ``h = HDM([g_m ; t_m[:, 1:]] for every m)`` (B, K, D), K = 2 ** M - 1;
* ``moe = ATMoE(h)`` (B, K*D): 3584-d, or ``h`` flattened with
  ``atmoe=None`` (official ``ATM=False``).

The output is a dict of named (B, D_name) features for
:class:`~mmieee.models.heads.BNNeckHead`: ``ori``, ``global_{m}`` (the
official per-modality ``RGB_global`` / ``NI_global`` / ``TI_global``, which
the vehicle heads classify), ``moe`` (unless ``hdm=None``) and, in training,
``loss_moe``, the MoE regularisation term of the official processor (the
constant 0: the official ``MoM`` computes none and ``GeneralFusion`` is
built with ``reg_weight=0``). The official test feature
(``return_pattern=3``) is ``[ori ; moe]``, 5120-d: the head's
``test_feature=('ori', 'moe')``; ``('ori',)`` and ``('moe',)`` give
``return_pattern`` 1 and 2.
"""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseModule

from mmieee.registry import MODELS

from .part_config import fill_part_config


@MODELS.register_module()
class DeMoNeck(BaseModule):
    """PIFE, HDM and ATMoE on the shared encoder's tokens.

    Submodules (names relied on by the official-checkpoint converter):
    ``pife`` (:class:`PIFE`), ``hdm`` (:class:`HDM`), ``atmoe``
    (:class:`ATMoE`).

    Args:
        num_modalities (int): M (filled in by ``MultiModalReID``).
            Defaults to 3.
        in_channels (int): D, the size of the encoder's output tokens (512
            for CLIP ViT-B/16 after its projection). Defaults to 512.
        pife (dict, optional): :class:`PIFE` config (``embed_dims`` and
            ``num_modalities`` filled in); None uses the class tokens as the
            global features (as in the paper's module ablation A).
            Defaults to ``dict(type='PIFE')``.
        hdm (dict, optional): :class:`HDM` config (filled in likewise);
            None: no ``moe`` feature. Defaults to ``dict(type='HDM')``.
        atmoe (dict, optional): :class:`ATMoE` config (``embed_dims`` and
            ``num_experts`` = K filled in; ``num_heads`` is the official
            ``MODEL.HEAD``); None: ``moe`` is the K HDM features
            concatenated. Needs ``hdm``. Defaults to
            ``dict(type='ATMoE', num_heads=4)``.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 num_modalities: int = 3,
                 in_channels: int = 512,
                 pife: Optional[dict] = dict(type='PIFE'),
                 hdm: Optional[dict] = dict(type='HDM'),
                 atmoe: Optional[dict] = dict(type='ATMoE', num_heads=4),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if atmoe is not None and hdm is None:
            raise ValueError('DeMoNeck: atmoe needs hdm (ATMoE mixes the '
                             'HDM features); set atmoe=None too')
        self.num_modalities = num_modalities
        self.in_channels = in_channels
        dims = dict(embed_dims=in_channels, num_modalities=num_modalities)
        self.pife = None if pife is None else MODELS.build(
            fill_part_config(pife, 'DeMoNeck', 'pife', **dims))
        self.hdm = None if hdm is None else MODELS.build(
            fill_part_config(hdm, 'DeMoNeck', 'hdm', **dims))
        self.atmoe = None if atmoe is None else MODELS.build(
            fill_part_config(atmoe, 'DeMoNeck', 'atmoe',
                             embed_dims=in_channels,
                             num_experts=self.hdm.num_outputs))

    @property
    def feature_dims(self) -> Dict[str, int]:
        """Name -> size of every feature :meth:`forward` returns (the
        ``branches`` a :class:`BNNeckHead` may classify)."""
        dims = {'ori': self.num_modalities * self.in_channels}
        dims.update({
            f'global_{m}': self.in_channels
            for m in range(self.num_modalities)
        })
        if self.hdm is not None:
            dims['moe'] = self.hdm.num_outputs * self.in_channels
        return dims

    def forward(self, tokens: Sequence[torch.Tensor]
                ) -> Dict[str, torch.Tensor]:
        """Named features of the M modalities.

        Args:
            tokens (Sequence[Tensor]): M token maps (B, 1 + N, D), class
                token first (the encoder's output, one per modality).

        Returns:
            dict[str, Tensor]: ``ori`` (B, M*D), ``global_{m}`` (B, D),
            ``moe`` (B, K*D) and, in training, ``loss_moe`` (the constant 0).
        """
        if len(tokens) != self.num_modalities:
            raise ValueError(f'DeMoNeck was built for {self.num_modalities} '
                             f'modalities, got {len(tokens)} token maps')
        if self.pife is not None:
            globals_ = self.pife(tokens)
        else:
            globals_ = [t[:, 0] for t in tokens]
        feats = {'ori': torch.cat(globals_, dim=-1)}
        feats.update({f'global_{m}': g for m, g in enumerate(globals_)})
        if self.hdm is not None:
            decoupled = self.hdm([
                torch.cat([g[:, None], t[:, 1:]], dim=1)
                for g, t in zip(globals_, tokens)
            ])
            if self.atmoe is not None:
                feats['moe'] = self.atmoe(decoupled)[0]
            else:
                feats['moe'] = decoupled.flatten(1)
        if self.training:
            feats['loss_moe'] = feats['ori'].new_zeros(())
        return feats
