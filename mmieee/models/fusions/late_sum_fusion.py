# Copyright (c) mmieee contributors.
"""Late fusion by feature summation (paper § "Evaluation on Cross-modal
Interacting Module", Fig. 6: "two late fusion schemes (feature summation and
feature aggregation) as JL-DCF and DAPNet"; § Related Work 2: feature-level
fusion).

The M last-stage backbone maps are added element by element into one map::

    f = sum_m f_m                 M x (B, C, h, w) -> 1 x (B, C, h, w)

which takes CIM's place in :class:`IEEENeck` and is followed by ONE part
path (reduce layer, REM, P part FCs) and one row of P part classifiers.

From the paper: late fusion by summation of the branches' features, the
scheme it attributes to JL-DCF (Fu et al. 2020). JL-DCF's own fusion
modules (several decoder levels, for salient object detection) are not
reproduced. Our choices: one plain sum of the last-stage maps, no weights,
no normalisation, no parameters.
"""
from typing import List, Sequence

import torch

from mmieee.registry import MODELS

from .base_fusion import BaseFusion


@MODELS.register_module()
class LateSumFusion(BaseFusion):
    """Sum of the M backbone maps: one fused branch.

    Args:
        num_modalities (int): M >= 2. Defaults to 3.
        in_channels (int): Channels of each map. Defaults to 2048.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    num_branches = 1

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Add the maps.

        Args:
            feats (Sequence[Tensor]): M maps, each (B, C, h, w).

        Returns:
            list[Tensor]: One map (B, C, h, w), their element-wise sum.
        """
        return [torch.stack(list(feats)).sum(dim=0)]
