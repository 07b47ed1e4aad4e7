# Copyright (c) mmieee contributors.
"""Late fusion by feature aggregation (paper § "Evaluation on Cross-modal
Interacting Module", Fig. 6: "two late fusion schemes (feature summation and
feature aggregation) as JL-DCF and DAPNet"; § Related Work 2).

The M last-stage backbone maps are concatenated along channels and reduced
back to C channels::

    f = ReLU(BN(Conv1x1([f_1, ..., f_M])))   M x (B, C, h, w) -> (B, C, h, w)

which takes CIM's place in :class:`IEEENeck` and is followed by ONE part
path and one row of P part classifiers.

From the paper: late fusion by aggregating the branches' features, the
scheme it attributes to DAPNet (Zhu et al. 2019). DAPNet's dense
aggregation over several layers and its feature pruning (for RGB-T
tracking) are not reproduced. Our choices: only the last-stage maps are
aggregated; a 1x1 convolution without bias, BatchNorm and ReLU (mmcv
``ConvModule``, Kaiming init) brings the M·C channels back to C (2048 for
ResNet-50), so that the rest of the IEEE neck is unchanged.
"""
from typing import List, Optional, Sequence

import torch
from mmcv.cnn import ConvModule

from mmieee.registry import MODELS

from .base_fusion import BaseFusion


@MODELS.register_module()
class LateConcatFusion(BaseFusion):
    """Channel concatenation of the M maps + 1x1 conv/BN/ReLU: one branch.

    Submodule: ``reduce`` (mmcv ConvModule: ``.conv`` (C, M·C, 1, 1) without
    bias, ``.bn``).

    Args:
        num_modalities (int): M >= 2. Defaults to 3.
        in_channels (int): C, channels of each map and of the output.
            Defaults to 2048.
        norm_cfg (dict): Norm after the conv. Defaults to BN.
        act_cfg (dict): Activation after the norm. Defaults to ReLU.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    num_branches = 1

    def __init__(self,
                 num_modalities: int = 3,
                 in_channels: int = 2048,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            num_modalities=num_modalities,
            in_channels=in_channels,
            init_cfg=init_cfg)
        self.reduce = ConvModule(
            num_modalities * in_channels,
            in_channels,
            1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Concatenate and reduce.

        Args:
            feats (Sequence[Tensor]): M maps, each (B, C, h, w).

        Returns:
            list[Tensor]: One map (B, C, h, w).
        """
        return [self.reduce(torch.cat(list(feats), dim=1))]
