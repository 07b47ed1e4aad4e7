# Copyright (c) mmieee contributors.
"""What the feature-level fusion modules share: the CIM slot's contract.

A module in :class:`IEEENeck`'s ``cim`` slot is called with the M backbone
maps (each (B, C, h, w)) and returns a list of ``num_branches`` maps of the
same shape: :class:`CrossModalInteraction` (CIM) returns M, a fusion scheme
fewer (1 for a single fused branch) or more (PFNet-style: M + 1), and the
neck builds one part path per returned map. The neck fills in
``num_modalities`` and ``in_channels``. ``num_branches`` is the one name of
"how many branches a part outputs" in mmieee: ``MultiModalReID`` reads it
from the backbone and the neck to size the next part.
"""
from typing import Optional

from mmengine.model import BaseModule


class BaseFusion(BaseModule):
    """Base of the modules of the neck's fusion slot (CIM, and the fusion
    schemes of paper Fig. 6).

    Args:
        num_modalities (int): M >= 2, maps to fuse. Defaults to 3.
        in_channels (int): Channels of each backbone map. Defaults to 2048.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    #: Maps returned by ``forward``; set by each subclass.
    num_branches: int = 1

    def __init__(self,
                 num_modalities: int = 3,
                 in_channels: int = 2048,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(num_modalities, int) or num_modalities < 2:
            raise ValueError(f'{type(self).__name__} needs num_modalities >= '
                             f'2 (there is nothing to fuse), got '
                             f'{num_modalities!r}')
        self.num_modalities = num_modalities
        self.in_channels = in_channels
