# Copyright (c) mmieee contributors.
"""Progressive fusion, PFNet-style (paper § "Evaluation on Cross-modal
Interacting Module", Fig. 6: "the progressive fusion schemes as PFNet";
§ Related Work 3; PFNet: Zheng et al., "Robust Multi-Modality Person
Re-identification", AAAI 2021).

With a = the anchor modality (index 0, RGB in every mmieee config) and the
M backbone maps f_m::

    p_n = ReLU(BN(Conv1x1_n(f_a + f_n)))     for every n != a  (2 modalities)
    s   = ReLU(BN(Conv1x1(sum_n p_n)))                         (all M)
    out = [f_1, ..., f_M, s]                 M + 1 maps (B, C, h, w)

The neck then gives every one of the M + 1 branches its own part path, the
head its own row of part classifiers, and the test feature is all
(M + 1) x P part embeddings concatenated.

Taken from public descriptions of PFNet (no code was released):

- the IEEE paper: PFNet extracts each modality with its own branch "and then
  progressively fuses two modalities (RGB-NI and RGB-TI) in part-level", and
  "fuses the multi-modality features progressively instead of at once";
- PFNet's abstract: features are learned "from single to multiple
  modalities and from local to global views";
- PFNet's Fig. 2 caption: the three branches are fused "into a summation
  branch", the summation branch and each single branch are divided into
  parts, and the features of all branches are concatenated.

Our choices (not described there): both fusion steps add their inputs and
follow with a 1x1 convolution without bias + BatchNorm + ReLU (mmcv
``ConvModule``) keeping C channels; the two-modality features p_n feed the
summation branch but are not branches of their own; fusion is computed on
the maps at every position and the neck pools the parts afterwards (the
same neck serves every scheme); "local to global" is the neck's part
features + REM's global embedding in every branch; PFNet's transfer module
for missing modalities is not reproduced. With M = 2 there is one pair and
the second step is one more block on it.
"""
from typing import List, Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from mmengine.model import ModuleList

from mmieee.registry import MODELS

from .base_fusion import BaseFusion


@MODELS.register_module()
class ProgressiveFusion(BaseFusion):
    """Single branches + anchor pairs + one summation branch (M + 1 maps).

    Submodules: ``pair_convs.{k}`` (k-th non-anchor modality in input order)
    and ``sum_conv``, each an mmcv ConvModule (``.conv`` C -> C 1x1 without
    bias, ``.bn``).

    Args:
        num_modalities (int): M >= 2. Defaults to 3.
        in_channels (int): C, channels of each map. Defaults to 2048.
        anchor (int): Index of the modality every other one is first fused
            with. Defaults to 0 (RGB).
        norm_cfg (dict): Norm of the conv blocks. Defaults to BN.
        act_cfg (dict): Activation of the conv blocks. Defaults to ReLU.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 num_modalities: int = 3,
                 in_channels: int = 2048,
                 anchor: int = 0,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            num_modalities=num_modalities,
            in_channels=in_channels,
            init_cfg=init_cfg)
        if not isinstance(anchor, int) or \
                not 0 <= anchor < num_modalities:
            raise ValueError(f'ProgressiveFusion: anchor must be a modality '
                             f'index in [0, {num_modalities}), got '
                             f'{anchor!r}')
        self.anchor = anchor
        #: The M single branches and the summation branch.
        self.num_branches = num_modalities + 1

        def block() -> ConvModule:
            return ConvModule(
                in_channels, in_channels, 1, bias=False, norm_cfg=norm_cfg,
                act_cfg=act_cfg)

        self.pair_convs = ModuleList(
            [block() for _ in range(num_modalities - 1)])
        self.sum_conv = block()

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Fuse pairs with the anchor, then all of them.

        Args:
            feats (Sequence[Tensor]): M maps, each (B, C, h, w).

        Returns:
            list[Tensor]: M + 1 maps (B, C, h, w): the inputs unchanged, then
            the summation branch.
        """
        anchor = feats[self.anchor]
        others = [f for n, f in enumerate(feats) if n != self.anchor]
        pairs = [conv(anchor + f) for conv, f in zip(self.pair_convs, others)]
        fused = self.sum_conv(torch.stack(pairs).sum(dim=0))
        return list(feats) + [fused]
