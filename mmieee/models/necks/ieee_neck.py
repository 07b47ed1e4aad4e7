# Copyright (c) mmieee contributors.
"""IEEE neck: CIM -> part pooling -> reduce layer -> REM -> part FC (paper
§ Proposed Method, Eq. 1-4).

Per modality m (M backbone maps f_m of shape (B, C_in, h, w))::

    x_m     = CIM(f)_m                      (identity when cim=None)
    parts_m = reduce_m(avgpool_{P x 1}(x_m))            -> (B, P, C_r)
    g_m     = reduce_m(avgpool_{1 x 1}(f_m or x_m))     -> (B, C_r)
    parts_m = REM_m(parts_m, g_m)           (skipped when rem=None)
    out_m,p = ReLU(BN1d(Linear(parts_m,p)))             -> (B, C_out)

The output is (B, M, P, C_out): 3 x 6 x 128 = 2304 values for the full
model. ``global_source='backbone'`` pools the raw backbone map f_m for g_m
(what the official code does); ``'cim'`` pools the CIM output x_m (what the
paper's text says). In both cases g_m goes through the same reduce layer as
the parts (so that layer's BatchNorm is shared by both paths, as officially).
With ``rem=None`` the global feature is not computed at all (the official
code still passes it through the reduce layer, which only moves that BN's
running statistics; it has no other effect).

Fusion schemes (paper Fig. 6) take CIM's place: a module of
:mod:`mmieee.models.fusions` in the ``cim`` slot maps the M backbone maps to
its ``num_branches`` maps (e.g. 1 fused map); the neck then has that many
branches, each with its own reduce layer, REM and part FCs, and outputs
(B, num_branches, P, C_out). Such a neck needs ``global_source='cim'`` (a
fused branch has no backbone map of its own).
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, ModuleList
from torch import nn

from mmieee.registry import MODELS

from .part_config import fill_part_config

_GLOBAL_SOURCES = ('backbone', 'cim')


@MODELS.register_module()
class IEEENeck(BaseModule):
    """Neck of the IEEE model.

    Submodules (names relied on by the official-checkpoint converter):
    ``cim`` (:class:`CrossModalInteraction`), ``reduce_layers.{m}`` (mmcv
    ConvModule 1x1 C_in -> C_r, no bias, BN, ReLU), ``rems.{m}``
    (:class:`RelationEmbedding`) and ``part_fcs.{m}.{p}``
    (``nn.Sequential(Linear(C_r, C_out), BatchNorm1d(C_out), ReLU())``).

    Args:
        num_modalities (int): M. Defaults to 3.
        in_channels (int): Channels of the backbone maps. Defaults to 2048.
        reduce_channels (int): C_r, channels after the reduce layer.
            Defaults to 768.
        out_channels (int): C_out, size of each part embedding.
            Defaults to 128.
        num_parts (int): P, horizontal stripes. Defaults to 6.
        cim (dict, optional): Config of the CIM, or of a fusion module
            taking its place (:mod:`mmieee.models.fusions`, whose
            ``num_branches`` sets the number of branches); ``num_modalities``
            and ``in_channels`` are filled in. None disables CIM
            (ablation a). Defaults to ``dict(type='CrossModalInteraction')``.
        rem (dict, optional): Config of one REM (one is built per modality);
            ``channels`` is filled in. None disables REM (ablations a-c).
            Defaults to ``dict(type='RelationEmbedding', variant='official')``.
        global_source (str): ``'backbone'`` (official) or ``'cim'`` (paper):
            which map the global feature is pooled from. Only used with REM.
            Defaults to ``'backbone'``.
        norm_cfg (dict): Norm of the reduce layers. Defaults to BN.
        act_cfg (dict): Activation of the reduce layers. Defaults to ReLU.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 num_modalities: int = 3,
                 in_channels: int = 2048,
                 reduce_channels: int = 768,
                 out_channels: int = 128,
                 num_parts: int = 6,
                 cim: Optional[dict] = dict(type='CrossModalInteraction'),
                 rem: Optional[dict] = dict(
                     type='RelationEmbedding', variant='official'),
                 global_source: str = 'backbone',
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if global_source not in _GLOBAL_SOURCES:
            raise ValueError(f'IEEENeck: global_source must be one of '
                             f'{_GLOBAL_SOURCES}, got {global_source!r}')
        if num_parts < 1:
            raise ValueError(f'IEEENeck: num_parts must be >= 1, got '
                             f'{num_parts}')
        self.num_modalities = num_modalities
        self.in_channels = in_channels
        self.reduce_channels = reduce_channels
        self.out_channels = out_channels
        self.num_parts = num_parts
        self.global_source = global_source

        self.cim = None if cim is None else MODELS.build(
            fill_part_config(cim, 'IEEENeck', 'cim',
                             num_modalities=num_modalities,
                             in_channels=in_channels))
        #: Maps after the CIM / fusion slot, each with its own part path.
        self.num_branches = num_modalities if self.cim is None else \
            self.cim.num_branches
        if global_source == 'backbone' and \
                self.num_branches != num_modalities:
            raise ValueError(
                f"IEEENeck: global_source='backbone' pools each branch's "
                f'global feature from its own backbone map, but '
                f'{type(self.cim).__name__} turns {num_modalities} maps into '
                f"{self.num_branches}; use global_source='cim' (pool the "
                'fusion output)')
        # mmengine ModuleLists so that init_weights reaches the children.
        self.reduce_layers = ModuleList([
            ConvModule(
                in_channels, reduce_channels, 1, bias=False,
                norm_cfg=norm_cfg, act_cfg=act_cfg)
            for _ in range(self.num_branches)
        ])
        self.rems = None if rem is None else ModuleList([
            MODELS.build(
                fill_part_config(rem, 'IEEENeck', 'rem',
                                 channels=reduce_channels))
            for _ in range(self.num_branches)
        ])
        self.part_fcs = ModuleList([
            ModuleList([
                nn.Sequential(
                    nn.Linear(reduce_channels, out_channels),
                    nn.BatchNorm1d(out_channels), nn.ReLU())
                for _ in range(num_parts)
            ]) for _ in range(self.num_branches)
        ])

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Compute the part embeddings.

        Args:
            feats (Sequence[Tensor]): M backbone maps, each
                (B, in_channels, h, w).

        Returns:
            Tensor: (B, num_branches, P, out_channels) part embeddings
            (num_branches = M unless a fusion module is in the CIM slot).
        """
        inter = self.cim(feats) if self.cim is not None else list(feats)
        outs = []
        for m in range(self.num_branches):
            reduce = self.reduce_layers[m]
            if self.rems is not None:
                # Global path first, then parts: the order in which the
                # shared BN sees them (and updates running stats) officially.
                src = feats[m] if self.global_source == 'backbone' \
                    else inter[m]
                g = reduce(F.adaptive_avg_pool2d(src, 1)).flatten(1)
            parts = reduce(F.adaptive_avg_pool2d(inter[m],
                                                 (self.num_parts, 1)))
            parts = parts.flatten(2).transpose(1, 2)  # (B, P, C_r)
            if self.rems is not None:
                parts = self.rems[m](parts, g)
            outs.append(
                torch.stack([
                    fc(parts[:, p]) for p, fc in enumerate(self.part_fcs[m])
                ], dim=1))
        return torch.stack(outs, dim=1)
