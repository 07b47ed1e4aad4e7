# Copyright (c) mmieee contributors.
"""Cross-modal interacting module, CIM (paper Eq. 1-2).

For modality m with backbone map f_m and the other modalities summed::

    a     = C1_m(f_m)                       # own_convs[m]
    s     = C2_m(sum_{n != m} f_n)          # other_convs[m]
    b     = CA_m(s) * s + s                 # Eq. 1 (boosted feature)
    out_m = a + b                           # Eq. 2 (interacted feature)

C1, C2 are 1x1 conv (no bias) + BN + ReLU keeping the channel count; CA is
CBAM channel attention (:class:`ChannelAttention`). The paper describes it
for M = 3 ("repeated K times"); the same rule works for any M >= 2. With
``use_channel_attention=False`` (an ablation of mmieee's, not in the paper)
``b = s``. Turning CIM off altogether is done in :class:`IEEENeck` with
``cim=None``.
"""
from typing import List, Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from mmengine.model import ModuleList

from mmieee.registry import MODELS

from ..fusions.base_fusion import BaseFusion
from .channel_attention import ChannelAttention


@MODELS.register_module()
class CrossModalInteraction(BaseFusion):
    """CIM: every modality absorbs the (channel-attended) sum of the others.

    Submodules (names relied on by the official-checkpoint converter):
    ``own_convs.{m}`` and ``other_convs.{m}`` (mmcv ConvModule: ``.conv``,
    ``.bn``) and, when enabled, ``channel_attentions.{m}``
    (:class:`ChannelAttention`).

    Args:
        num_modalities (int): M >= 2. Defaults to 3.
        in_channels (int): Channels of the backbone maps (kept unchanged).
            Defaults to 2048.
        use_channel_attention (bool): Apply CA to the summed other modalities
            (Eq. 1). Defaults to True.
        ca_ratio (int): Reduction ratio of the CA MLP. Defaults to 16.
        norm_cfg (dict): Norm of the 1x1 conv blocks. Defaults to BN.
        act_cfg (dict): Activation of the 1x1 conv blocks. Defaults to ReLU.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 num_modalities: int = 3,
                 in_channels: int = 2048,
                 use_channel_attention: bool = True,
                 ca_ratio: int = 16,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None) -> None:
        if num_modalities < 2:
            raise ValueError('CrossModalInteraction needs num_modalities >= 2 '
                             f'(there is nothing to interact with), got '
                             f'{num_modalities}; use cim=None in the neck')
        super().__init__(
            num_modalities=num_modalities,
            in_channels=in_channels,
            init_cfg=init_cfg)
        #: One interacted map per modality.
        self.num_branches = num_modalities
        self.use_channel_attention = use_channel_attention

        def conv_block() -> ConvModule:
            return ConvModule(
                in_channels, in_channels, 1, bias=False, norm_cfg=norm_cfg,
                act_cfg=act_cfg)

        self.own_convs = ModuleList(
            [conv_block() for _ in range(num_modalities)])
        self.other_convs = ModuleList(
            [conv_block() for _ in range(num_modalities)])
        if use_channel_attention:
            self.channel_attentions = ModuleList([
                ChannelAttention(in_channels, ratio=ca_ratio)
                for _ in range(num_modalities)
            ])

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Apply Eq. 1-2 to every modality.

        Args:
            feats (Sequence[Tensor]): M maps, each (B, C, H, W).

        Returns:
            list[Tensor]: M interacted maps, each (B, C, H, W).
        """
        outs = []
        for m, f_m in enumerate(feats):
            # Sum the other maps directly (not total - f_m) so the result is
            # exactly the official ordering of additions.
            others = [f for n, f in enumerate(feats) if n != m]
            rest = others[0]
            for f in others[1:]:
                rest = rest + f
            a = self.own_convs[m](f_m)
            s = self.other_convs[m](rest)
            if self.use_channel_attention:
                b = self.channel_attentions[m](s) * s + s
            else:
                b = s
            outs.append(a + b)
        return outs
