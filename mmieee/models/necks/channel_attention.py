# Copyright (c) mmieee contributors.
"""CBAM channel attention (Woo et al. 2018), the ``CA(.)`` of paper Eq. 1.

``CA(x) = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))`` with a shared two-layer
MLP of 1x1 convolutions ``C -> C/ratio -> C`` (no bias, ReLU in between). The
output is the (B, C, 1, 1) attention; the caller multiplies it with ``x``.
"""
from typing import Optional

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmieee.registry import MODELS


@MODELS.register_module()
class ChannelAttention(BaseModule):
    """CBAM channel attention.

    Submodules (names relied on by the official-checkpoint converter):
    ``reduce`` (1x1 conv C -> C/ratio, no bias, ReLU; ``reduce.conv.weight``)
    and ``expand`` (1x1 conv C/ratio -> C, no bias, no activation;
    ``expand.conv.weight``).

    Args:
        in_channels (int): C. 2048 in the paper.
        ratio (int): Channel reduction ratio of the MLP. Defaults to 16
            (2048 -> 128, as in the official code).
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 ratio: int = 16,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        hidden = in_channels // ratio
        if hidden < 1:
            raise ValueError(
                f'ChannelAttention: in_channels={in_channels} // ratio={ratio}'
                ' is 0; lower `ratio`')
        self.in_channels = in_channels
        self.ratio = ratio
        self.reduce = ConvModule(
            in_channels, hidden, 1, bias=False, norm_cfg=None,
            act_cfg=dict(type='ReLU'))
        self.expand = ConvModule(
            hidden, in_channels, 1, bias=False, norm_cfg=None, act_cfg=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the channel attention.

        Args:
            x (Tensor): (B, C, H, W) feature map.

        Returns:
            Tensor: (B, C, 1, 1) attention weights in (0, 1).
        """
        avg = x.mean(dim=(2, 3), keepdim=True)
        mx = x.amax(dim=(2, 3), keepdim=True)
        # One MLP pass over both pooled descriptors (stacked on the batch).
        both = self.expand(self.reduce(torch.cat([avg, mx], dim=0)))
        avg_out, max_out = both.chunk(2, dim=0)
        return torch.sigmoid(avg_out + max_out)
