# Copyright (c) mmieee contributors.
"""TOP-ReID's neck: the streams' token maps -> TPM and CRM -> named features
for :class:`~mmieee.models.heads.BNNeckHead` (Wang et al., AAAI 2024, Fig. 2
and § "Training and Inference"; official code ``modeling/make_model.py``,
class ``TOPReID``, of github.com/924973292/TOP-ReID).

Given the M token maps (B, 1 + N, C) of the ViT streams (class token first,
after each stream's final LayerNorm) the neck returns:

* ``'tpm'``: the TPM output (B, M * C), the official test feature (taken
  before the head's BN neck: ``neck_feat='before'``);
* ``'cls'``: the concatenated class tokens of the streams (B, M * C), the
  official ``ori`` feature (the ViT branch of ``MODEL.DIRECT = 1``);
* ``'cls_0'`` ... ``'cls_{M-1}'``: each stream's class token (B, C), the
  per-modality features of ``MODEL.DIRECT = 0`` (RGBNT100, MSVR310);
* in training, ``'loss_crm'``: the CRM loss (weight 1), which the head
  passes through.

Which features are trained is the head's choice (``BNNeckHead.branches``):
``tpm`` + ``cls`` for RGBNT201, ``tpm`` + ``cls_0..2`` for the vehicle sets.

Missing modalities (``model.test_cfg.missing_modalities``, the official
``TEST.MISS``): the model calls ``neck(tokens, missing=[...])`` and the
missing streams' token maps are replaced by CRM's reconstruction
(:meth:`ComplementaryReconstruction.reconstruct`) before TPM, so the
feature does not depend on the missing images. :attr:`reconstructs_missing`
tells the model that this neck can do it.
"""
import copy
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseModule

from mmieee.registry import MODELS


@MODELS.register_module()
class TOPReIDNeck(BaseModule):
    """TPM + CRM on the streams' token maps (module docstring).

    Args:
        num_modalities (int): M; filled in by ``MultiModalReID``. Defaults
            to 3.
        in_channels (int): C, the width of the streams' tokens (checked
            against the backbone's output by the model). Defaults to 768.
        tpm (dict): :class:`TokenPermutation` config (``num_modalities`` and
            ``embed_dims`` are filled in). Defaults to the official one.
        crm (dict, optional): :class:`ComplementaryReconstruction` config
            (same filling); None: no reconstruction loss and no
            missing-modality reconstruction (the official ``RE = 0``).
            Defaults to the official one (one layer per unit).
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 num_modalities: int = 3,
                 in_channels: int = 768,
                 tpm: dict = dict(type='TokenPermutation', num_heads=12,
                                  feedforward_channels=3072),
                 crm: Optional[dict] = dict(
                     type='ComplementaryReconstruction', num_heads=12,
                     feedforward_channels=3072, num_layers=1),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_modalities = num_modalities
        self.in_channels = in_channels
        self.tpm = MODELS.build(self._filled(tpm, 'tpm'))
        self.crm = None if crm is None else MODELS.build(
            self._filled(crm, 'crm'))

    def _filled(self, cfg: dict, name: str) -> dict:
        cfg = copy.deepcopy(dict(cfg))
        for key, value in (('num_modalities', self.num_modalities),
                           ('embed_dims', self.in_channels)):
            have = cfg.setdefault(key, value)
            if have != value:
                raise ValueError(
                    f'TOPReIDNeck: {name}.{key}={have} but the neck has '
                    f'{key}={value}; leave it out (the neck fills it in)')
        return cfg

    @property
    def reconstructs_missing(self) -> bool:
        """Whether ``forward(tokens, missing=...)`` can replace missing
        modalities (it needs the CRM)."""
        return self.crm is not None

    def forward(self,
                tokens: Sequence[torch.Tensor],
                missing: Optional[Sequence[int]] = None
                ) -> Dict[str, torch.Tensor]:
        """Compute the named features (module docstring).

        Args:
            tokens (Sequence[Tensor]): M token maps (B, 1 + N, C), class
                token first, in modality order.
            missing (Sequence[int], optional): Indices of modalities whose
                token maps CRM replaces (a non-empty proper subset of
                ``range(M)``); None or empty for none.

        Returns:
            dict[str, Tensor]: ``tpm`` (B, M * C), ``cls`` (B, M * C),
            ``cls_{m}`` (B, C); in training also ``loss_crm``.
        """
        tokens = list(tokens)
        if len(tokens) != self.num_modalities:
            raise ValueError(
                f'TOPReIDNeck was built for {self.num_modalities} '
                f'modalities, got {len(tokens)} token maps')
        out = {}
        if self.training and self.crm is not None:
            out['loss_crm'] = self.crm.loss(tokens)
        if missing:
            if self.crm is None:
                raise ValueError(
                    'TOPReIDNeck: missing modalities were requested but the '
                    'neck has no CRM (crm=None) to reconstruct them')
            tokens = self.crm.reconstruct(tokens, missing)
        feats = {'tpm': self.tpm(tokens)}
        cls = [t[:, 0] for t in tokens]
        feats['cls'] = torch.cat(cls, dim=1)
        feats.update({f'cls_{m}': c for m, c in enumerate(cls)})
        feats.update(out)
        return feats
