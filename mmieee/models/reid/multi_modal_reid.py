# Copyright (c) mmieee contributors.
"""Multi-modal Re-ID model: backbone -> neck -> head (DESIGN §1 data flow,
DESIGN §3 "Model modes", DESIGN §4 the IEEE model; paper Fig. 3).

Modes of ``forward(inputs, data_samples, mode)``, ``inputs`` being the
(B, M, C, H, W) float batch from the data preprocessor:

- ``'loss'``: dict of losses (``loss_ce``, ``loss_3m``, ...) and ``acc_top1``;
- ``'predict'``: the data samples with ``pred_feature`` (1-D, M·P·C values);
- ``'tensor'``: the (B, M·P·C) feature.

Missing-modality protocol: ``test_cfg=dict(blank_modalities=('NI',))`` sets
the named modalities (names from ``modalities`` or indices) to zero after the
data preprocessor, i.e. to the normalised mean, in ``'predict'`` and
``'tensor'`` modes only.

Size: the full-size official-variant model (three ResNet-50 streams, CIM with
CA, 768-d reduce layers, official REM, 6 parts x 128-d, 171 training
identities) has 105,955,785 trainable parameters (BN buffers not counted):
backbone 70,524,096 (3 x 23,508,032), neck 35,034,627 (CIM 26,763,264,
reduce layers 4,723,200, REM 1,771,779, part FCs 1,776,384), head 397,062.
The official implementation's model has 109,499,337 = 105,955,785 +
3 x 2 x (768·768 + 768): per modality its REM also holds ``conv_query`` and
``conv_value`` (Linear 768 -> 768 each), which never affect the output and
are not created here.
"""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from mmpretrain.structures import DataSample
from torch import nn

from mmieee.registry import MODELS

_TEST_CFG_KEYS = ('blank_modalities', )


def _with_modalities(cfg: dict, part: str, num_modalities: int,
                     origin: str) -> dict:
    cfg = copy.deepcopy(dict(cfg))
    have = cfg.setdefault('num_modalities', num_modalities)
    if have != num_modalities:
        raise ValueError(
            f'MultiModalReID: {part}.num_modalities={have} but {origin}')
    return cfg


@MODELS.register_module()
class MultiModalReID(BaseModel):
    """Multi-modal object Re-ID model (mmengine ``BaseModel``).

    Args:
        backbone (dict): e.g. :class:`MultiStreamBackbone` config.
        neck (dict): e.g. :class:`IEEENeck` config.
        head (dict): e.g. :class:`IEEEHead` config.
        data_preprocessor (dict | nn.Module, optional): Built from mmieee's
            ``MODELS``; configs use ``dict(type='MultiModalDataPreprocessor',
            mean=..., std=...)``. None gives mmengine's
            ``BaseDataPreprocessor`` (device transfer only: inputs must
            already be normalised floats). Defaults to None.
        modalities (Sequence[str]): Modality names in input order; M =
            len(modalities) is filled into the backbone/neck/head configs
            (a contradicting ``num_modalities`` there is an error).
            Defaults to ('RGB', 'NI', 'TI').
        test_cfg (dict, optional): ``blank_modalities`` (names or indices
            of modalities zeroed in predict/tensor mode). Defaults to None.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 modalities: Sequence[str] = ('RGB', 'NI', 'TI'),
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if isinstance(data_preprocessor, dict):
            # Build from our registry: mmengine's BaseModel would use the root
            # registry, which only finds mmieee modules under default_scope.
            data_preprocessor = MODELS.build(copy.deepcopy(data_preprocessor))
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        modalities = tuple(modalities)
        if not modalities or len(set(modalities)) != len(modalities):
            raise ValueError('MultiModalReID: modalities must be non-empty '
                             f'and unique, got {modalities}')
        self.modalities = modalities
        num = len(modalities)
        self.backbone = MODELS.build(
            _with_modalities(backbone, 'backbone', num,
                             f'modalities has {num} entries'))
        # A fusing backbone or neck (mmieee.models.fusions) declares how many
        # branches it outputs (e.g. 1 fused map); the next part is built for
        # that many. Without the attribute a part keeps one branch per input.
        num = getattr(self.backbone, 'num_branches', num)
        self.neck = MODELS.build(
            _with_modalities(neck, 'neck', num,
                             f'the backbone outputs {num} branch(es)'))
        num = getattr(self.neck, 'num_branches', num)
        self.head = MODELS.build(
            _with_modalities(head, 'head', num,
                             f'the neck outputs {num} branch(es)'))
        self.test_cfg = dict(test_cfg or {})
        unknown = set(self.test_cfg) - set(_TEST_CFG_KEYS)
        if unknown:
            raise ValueError(f'MultiModalReID: unknown test_cfg keys '
                             f'{sorted(unknown)}; known: {_TEST_CFG_KEYS}')
        self.set_blank_modalities(self.test_cfg.get('blank_modalities') or ())

    def set_blank_modalities(
            self, blank: Union[str, int, Sequence[Union[str, int]]]) -> None:
        """Choose the modalities zeroed in predict/tensor mode.

        Args:
            blank (str | int | Sequence): Modality names (from
                ``modalities``) or indices; empty for none.

        Raises:
            ValueError: An unknown name (the message lists the available
                ones) or an out-of-range index.
        """
        self.blank_indices = self._resolve_blank(blank)
        self.test_cfg['blank_modalities'] = [
            self.modalities[i] for i in self.blank_indices
        ]

    def _resolve_blank(self, blank: Union[str, int, Sequence]) -> List[int]:
        if isinstance(blank, (str, int)):
            blank = (blank, )
        indices = []
        for item in blank:
            if isinstance(item, str):
                if item not in self.modalities:
                    raise ValueError(
                        f'MultiModalReID: test_cfg.blank_modalities names '
                        f'{item!r}, not one of the available modalities '
                        f'{self.modalities}')
                indices.append(self.modalities.index(item))
            elif isinstance(item, int) and \
                    -len(self.modalities) <= item < len(self.modalities):
                indices.append(item % len(self.modalities))
            else:
                raise ValueError(
                    f'MultiModalReID: test_cfg.blank_modalities entry '
                    f'{item!r} is neither a modality name of '
                    f'{self.modalities} nor an index in '
                    f'[0, {len(self.modalities)})')
        return sorted(set(indices))

    def _stack(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
               ) -> torch.Tensor:
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.stack(list(inputs))
        if inputs.dim() != 5 or inputs.size(1) != len(self.modalities):
            raise ValueError(
                f'MultiModalReID expects inputs (B, M={len(self.modalities)},'
                f' C, H, W) for modalities {self.modalities}, got '
                f'{tuple(inputs.shape)}')
        if not inputs.is_floating_point():
            raise TypeError(
                'MultiModalReID got integer inputs: configure a data '
                "preprocessor (dict(type='MultiModalDataPreprocessor', ...))")
        return inputs

    def blank(self, inputs: torch.Tensor) -> torch.Tensor:
        """Zero the ``test_cfg.blank_modalities`` of a (B, M, C, H, W)
        batch (returns a new tensor when there is something to blank)."""
        if not self.blank_indices:
            return inputs
        inputs = inputs.clone()
        inputs[:, self.blank_indices] = 0
        return inputs

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """Backbone + neck.

        Args:
            inputs (Tensor): (B, M, C, H, W).

        Returns:
            Tensor: (B, M, P, C_out) part embeddings.
        """
        return self.neck(self.backbone(inputs))

    def forward(self,
                inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'
                ) -> Union[Dict[str, torch.Tensor], List[DataSample],
                           torch.Tensor]:
        """Run the model in ``'loss'``, ``'predict'`` or ``'tensor'`` mode.

        Args:
            inputs (Tensor | Sequence[Tensor]): (B, M, C, H, W) float batch
                (or B tensors of shape (M, C, H, W)).
            data_samples (list[DataSample], optional): needed (with
                ``gt_label``) for ``'loss'``.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.

        Returns:
            dict | list[DataSample] | Tensor: losses; data samples with
            ``pred_feature``; or the (B, M·P·C_out) feature.
        """
        inputs = self._stack(inputs)
        if mode == 'loss':
            if data_samples is None:
                raise ValueError("MultiModalReID: mode='loss' needs "
                                 'data_samples with gt_label')
            return self.head.loss(self.extract_feat(inputs), data_samples)
        if mode == 'predict':
            return self.head.predict(
                self.extract_feat(self.blank(inputs)), data_samples)
        if mode == 'tensor':
            return self.extract_feat(self.blank(inputs)).flatten(1)
        raise ValueError(f'MultiModalReID: invalid mode {mode!r}; expected '
                         "'loss', 'predict' or 'tensor'")
