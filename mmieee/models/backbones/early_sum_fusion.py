# Copyright (c) mmieee contributors.
"""Early fusion by image summation (paper § "Evaluation on Cross-modal
Interacting Module", Fig. 6: "one early fusion scheme (image summation)";
§ Related Work, "Multi-modal Fusion Schemes" 1: image-level fusion).

The M images of a sample, each already normalised by the data preprocessor,
are added pixel by pixel into one image::

    x = sum_m x_m                 (B, M, C, H, W) -> (B, C, H, W)

which goes through ONE backbone stream. The result is a single branch: the
neck gets one map (no CIM: ``cim=None``), cuts it into parts and so on, and
the head has one row of P part classifiers.

From the paper: the fusion is a sum of images before a single network. Our
choices (the paper gives no detail): the sum is taken after per-modality
normalisation (so a blanked modality, set to zero by the missing-modality
protocol, simply drops out of the sum) and is not rescaled; the stream is
the same ResNet as one IEEE stream (ImageNet initialisation, last stride 1).
"""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import torch

from mmieee.registry import MODELS

from .multi_stream_backbone import _DEFAULT_BACKBONE, MultiStreamBackbone


@MODELS.register_module()
class EarlySumFusion(MultiStreamBackbone):
    """Backbone that sums the M normalised images and runs one stream.

    It is used in the backbone slot of :class:`MultiModalReID` (the scheme
    fuses before any network), with ``neck.cim=None``. The model reads
    ``num_branches`` (1) and builds the neck and head for one branch.
    Pretrained initialisation works as in :class:`MultiStreamBackbone`
    (``init_cfg=dict(type='Pretrained', ...)`` is loaded into the stream).

    Args:
        num_modalities (int): M >= 2, the number of images summed.
            Defaults to 3.
        backbone (dict): Config of the stream. Defaults to mmpretrain
            ResNet-50 with last stride 1 and ``out_indices=(3,)``.
        init_cfg (dict | list[dict], optional): See
            :class:`MultiStreamBackbone`. Defaults to None.
    """

    #: Maps this backbone outputs (read by :class:`MultiModalReID`).
    num_branches = 1

    def __init__(self,
                 num_modalities: int = 3,
                 backbone: dict = _DEFAULT_BACKBONE,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        if not isinstance(num_modalities, int) or num_modalities < 2:
            raise ValueError('EarlySumFusion needs num_modalities >= 2 '
                             f'(there is nothing to fuse), got '
                             f'{num_modalities!r}')
        # share_weights=True builds exactly one stream.
        super().__init__(
            num_modalities=num_modalities,
            backbone=copy.deepcopy(backbone),
            share_weights=True,
            init_cfg=init_cfg)

    @staticmethod
    def fuse(inputs: torch.Tensor) -> torch.Tensor:
        """Sum the images of each sample.

        Args:
            inputs (Tensor): (B, M, C, H, W) normalised images.

        Returns:
            Tensor: (B, C, H, W), the pixel-wise sum over the M modalities.
        """
        return inputs.sum(dim=1)

    def forward(self,
                inputs: torch.Tensor,
                camids: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor]:
        """Fuse the images, then run the stream.

        Args:
            inputs (Tensor): (B, M, C, H, W) images, modality m at ``[:, m]``.
            camids (Tensor, optional): (B,) camera ids, for a stream with a
                camera embedding.

        Returns:
            tuple[Tensor]: One map (B, Cb, h, w).
        """
        # The (B, M, C, H, W) shape is checked where data enters the model
        # (MultiModalReID).
        kwargs = dict(camids=camids) if self.needs_camids else {}
        out = self.streams[0](self.fuse(inputs), **kwargs)
        if isinstance(out, Sequence):
            out = out[-1]
        return (out, )
