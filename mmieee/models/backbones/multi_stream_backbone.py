# Copyright (c) mmieee contributors.
"""Multi-stream backbone: one CNN per modality (paper § "Three-stream Feature
Extracting Network").

Each of the M modalities of a sample goes through its own backbone (no weight
sharing by default), so that modality-specific information is kept. The
default stream is the official one: an ImageNet ResNet-50 whose last stage
has stride 1 (a 256 x 128 input gives a 2048 x 16 x 8 map).
"""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule, ModuleList

from mmieee.registry import MODELS
from mmieee.utils.arg_checks import check_int

from ..weight_init import loads_weights

_DEFAULT_BACKBONE = dict(
    type='mmpretrain.ResNet',
    depth=50,
    strides=(1, 2, 2, 1),
    out_indices=(3, ))


@MODELS.register_module()
class MultiStreamBackbone(BaseModule):
    """M backbones, one per modality.

    Pretrained weights: ``init_cfg=dict(type='Pretrained',
    checkpoint='torchvision://resnet50')`` loads the same ImageNet checkpoint
    into *every* stream. A ``Pretrained`` init config is not kept at this
    container level (its keys would have to be prefixed ``streams.{i}.``, which
    the torchvision checkpoint's keys are not); it is copied into each
    stream's backbone config instead, so each stream loads it in its own
    ``init_weights()`` (mmpretrain ResNet parameter names equal torchvision's;
    the checkpoint's unused ``fc.*`` keys are reported by mmengine and
    ignored). Any other initializer that loads a file is routed the same
    way, e.g. ``dict(type='TimmViTPretrained', checkpoint=...)`` for
    :class:`ReIDViT` streams (TOP-ReID's ImageNet-21k ViT-B/16).
    Putting ``init_cfg`` inside ``backbone`` has the same effect. Any other
    init config (e.g. ``Kaiming``) is handled by mmengine's ``BaseModule`` as
    usual. Weights are only loaded when ``init_weights()`` is called (the
    Runner does this); tests keep ``init_cfg=None`` (no network).

    Args:
        num_modalities (int): M, the number of input modalities. Defaults to 3.
        backbone (dict): Config of one stream, built from ``MODELS``. Its
            forward must return a tensor or a tuple of tensors, of which the
            last is used. Defaults to mmpretrain ResNet-50 with last stride 1
            and ``out_indices=(3,)``.
        share_weights (bool): Use one backbone for all modalities (for
            comparison studies); each modality is still run separately, so
            BatchNorm statistics are computed per modality. Defaults to False.
        channels_last (bool): Run the streams in channels-last memory
            format (a speed option, see docs/performance.md): their 4-D
            weights are stored channels-last and each modality's
            (B, C, H, W) input is copied to channels-last before its stream.
            The output values are those of the default format up to float
            rounding. Defaults to False.
        init_cfg (dict | list[dict], optional): See above. Defaults to None.
    """

    def __init__(self,
                 num_modalities: int = 3,
                 backbone: dict = _DEFAULT_BACKBONE,
                 share_weights: bool = False,
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        check_int('MultiStreamBackbone', 'num_modalities', num_modalities)
        if not isinstance(backbone, dict) or 'type' not in backbone:
            raise TypeError('MultiStreamBackbone: `backbone` must be a config '
                            f'dict with a "type" key, got {backbone!r}')
        stream_cfg = copy.deepcopy(dict(backbone))
        # Route a Pretrained init_cfg to every stream (see class docstring).
        own_init_cfg = init_cfg
        if loads_weights(init_cfg):
            stream_cfg['init_cfg'] = copy.deepcopy(init_cfg)
            own_init_cfg = None
        elif isinstance(init_cfg, (list, tuple)):
            pretrained = [c for c in init_cfg if loads_weights(c)]
            if len(pretrained) > 1:
                raise ValueError('MultiStreamBackbone: at most one Pretrained '
                                 f'init_cfg, got {init_cfg!r}')
            if pretrained:
                stream_cfg['init_cfg'] = copy.deepcopy(pretrained[0])
            own_init_cfg = [c for c in init_cfg
                            if not loads_weights(c)] or None
        super().__init__(init_cfg=own_init_cfg)

        self.num_modalities = num_modalities
        self.share_weights = share_weights
        num_streams = 1 if share_weights else num_modalities
        # mmengine's ModuleList (not torch's): BaseModule.init_weights only
        # recurses into children that have init_weights, so the streams'
        # init_cfg (e.g. Pretrained) would be ignored inside a torch list.
        self.streams = ModuleList(
            [MODELS.build(copy.deepcopy(stream_cfg))
             for _ in range(num_streams)])
        self.channels_last = channels_last
        if channels_last:
            # Keeps the Parameter objects (only their storage changes), and
            # later weight loading copies into this layout.
            self.streams.to(memory_format=torch.channels_last)

    @property
    def num_cameras(self) -> int:
        """Cameras of the streams' camera embedding (0: none)."""
        return getattr(self.streams[0], 'num_cameras', 0)

    @property
    def needs_camids(self) -> bool:
        """Whether the streams need each sample's camera id (a camera
        embedding, e.g. :class:`ReIDViT` with ``num_cameras > 0``)."""
        return bool(getattr(self.streams[0], 'needs_camids', False))

    def forward(self,
                inputs: torch.Tensor,
                camids: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, ...]:
        """Run each modality through its stream.

        Args:
            inputs (Tensor): (B, M, C, H, W) images, modality m at ``[:, m]``.
            camids (Tensor, optional): (B,) camera ids, passed to streams
                that need them (:attr:`needs_camids`).

        Returns:
            tuple[Tensor]: M outputs: feature maps (B, Cb, h, w) for CNN
            streams (Cb = 2048 and (h, w) = (H/16, W/16) for the default
            ResNet-50), or token maps (B, 1 + N, C) for :class:`ReIDViT`.
        """
        kwargs = dict(camids=camids) if self.needs_camids else {}
        outs = []
        for m in range(self.num_modalities):
            stream = self.streams[0 if self.share_weights else m]
            x = inputs[:, m]
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            out = stream(x, **kwargs)
            if isinstance(out, Sequence):
                out = out[-1]
            outs.append(out)
        return tuple(outs)
