# Copyright (c) mmieee contributors.
"""Batch preprocessing of multi-modal Re-ID inputs.

mmpretrain's ``ClsDataPreprocessor`` treats a list of modality images as a
batch, so this is a small :class:`BaseDataPreprocessor` of our own: it moves
the collated uint8 batch (B, M, C, H, W) to the model's device, optionally
flips the channel order, and normalises every modality with its own (M × C)
or a shared (C) mean / std (the official recipe uses ImageNet's for every
modality).
"""
from numbers import Number
from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor

from mmieee.registry import MODELS

MeanStd = Union[Sequence[float], Sequence[Sequence[float]]]


def _as_table(value: MeanStd, name: str) -> torch.Tensor:
    """Turn a C-sequence or an M × C nested sequence into an (M', C) tensor.

    M' is 1 for a shared C-sequence.
    """
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if isinstance(value, Number) or not isinstance(value, Sequence) \
            or len(value) == 0:
        raise ValueError(
            f'MultiModalDataPreprocessor: {name} must be a sequence of C '
            'numbers (shared by all modalities) or an M x C nested sequence '
            f'(one row per modality), got {name}={value!r}')
    if all(isinstance(v, Number) for v in value):
        rows = [list(value)]
    elif all(isinstance(v, Sequence) and not isinstance(v, str)
             and all(isinstance(x, Number) for x in v) for v in value):
        rows = [list(v) for v in value]
        if len({len(r) for r in rows}) != 1 or len(rows[0]) == 0:
            raise ValueError(
                f'MultiModalDataPreprocessor: the rows of {name} must all '
                f'have the same number C of channels, got {name}={value!r}')
    else:
        raise ValueError(
            f'MultiModalDataPreprocessor: {name} must be a sequence of C '
            'numbers or an M x C nested sequence of numbers, got '
            f'{name}={value!r}')
    return torch.tensor(rows, dtype=torch.float32)


@MODELS.register_module()
class MultiModalDataPreprocessor(BaseDataPreprocessor):
    """Move, channel-flip and normalise a batch of M-modality images.

    Input ``data['inputs']``: a tensor (B, M, C, H, W) (``default_collate``
    of :class:`PackMultiModalReIDInputs` outputs), any dtype (uint8 usually),
    or a list of B tensors (M, C, H, W) of equal shape. Output:
    ``dict(inputs=float32 tensor (B, M, C, H, W), data_samples=...)`` on the
    model's device, with ``inputs = (flip(x) - mean[m]) / std[m]``.

    Args:
        mean (Sequence[float] | Sequence[Sequence[float]], optional): Either C
            values shared by every modality, or M rows of C values (row m
            for modality m, in ``metainfo['modalities']`` order). None: no
            normalisation (only the cast to float). Given in the channel
            order *after* the ``to_rgb`` flip.
        std (same as mean, optional): Standard deviations, same structure
            rule as ``mean`` (a shared std may go with a per-modality mean
            and vice versa). Required when ``mean`` is given.
        to_rgb (bool): Reverse the channel order (BGR ↔ RGB) of every
            modality before normalising; needs C = 3. Use it when the images
            were loaded with ``LoadMultiModalImages(channel_order='bgr')``;
            the default loader gives RGB. Defaults to False.
        non_blocking (bool): Non-blocking host-to-device copy. Defaults to
            False.

    Raises:
        ValueError: Malformed ``mean`` / ``std`` (the message names the
            value), or inputs whose shape does not match (B, M, C, H, W) and
            the number of modalities / channels of ``mean`` / ``std``.
    """

    def __init__(self,
                 mean: Optional[MeanStd] = None,
                 std: Optional[MeanStd] = None,
                 to_rgb: bool = False,
                 non_blocking: Optional[bool] = False) -> None:
        super().__init__(non_blocking)
        self.to_rgb = to_rgb
        self._enable_normalize = mean is not None
        if (mean is None) != (std is None):
            raise ValueError(
                'MultiModalDataPreprocessor: mean and std must be given '
                f'together, got mean={mean!r}, std={std!r}')
        if mean is not None:
            mean_t = _as_table(mean, 'mean')
            std_t = _as_table(std, 'std')
            if mean_t.shape[1] != std_t.shape[1]:
                raise ValueError(
                    'MultiModalDataPreprocessor: mean and std have different '
                    f'channel counts: mean={mean!r}, std={std!r}')
            if 1 not in (mean_t.shape[0], std_t.shape[0]) and \
                    mean_t.shape[0] != std_t.shape[0]:
                raise ValueError(
                    'MultiModalDataPreprocessor: mean and std give different '
                    f'numbers of modalities: mean={mean!r}, std={std!r}')
            if (std_t <= 0).any():
                raise ValueError('MultiModalDataPreprocessor: std must be '
                                 f'positive, got std={std!r}')
            # (1, M' , C, 1, 1) with M' = 1 (shared) or M (per modality);
            # not persistent: configs, not checkpoints, own these values.
            self.register_buffer('mean', mean_t[None, :, :, None, None],
                                 False)
            self.register_buffer('std', std_t[None, :, :, None, None], False)

    @property
    def num_modalities(self) -> Optional[int]:
        """M fixed by a per-modality mean/std, or None when shared."""
        if not self._enable_normalize:
            return None
        m = max(self.mean.shape[1], self.std.shape[1])
        return m if m > 1 else None

    def _stack(self, inputs: Union[torch.Tensor,
                                   List[torch.Tensor]]) -> torch.Tensor:
        if isinstance(inputs, torch.Tensor):
            return inputs
        if isinstance(inputs, (list, tuple)) and inputs and all(
                isinstance(x, torch.Tensor) for x in inputs):
            shapes = {tuple(x.shape) for x in inputs}
            if any(x.ndim != 4 for x in inputs) or len(shapes) != 1:
                raise ValueError(
                    'MultiModalDataPreprocessor: a list input must hold '
                    'tensors (M, C, H, W) of one shape, got shapes '
                    f'{sorted(shapes)}')
            return torch.stack(list(inputs))
        raise TypeError(
            'MultiModalDataPreprocessor: data["inputs"] must be a tensor '
            '(B, M, C, H, W) or a list of (M, C, H, W) tensors, got '
            f'{type(inputs).__name__}')

    def forward(self, data: dict, training: bool = False) -> dict:
        """Preprocess one collated batch.

        Args:
            data (dict): ``inputs`` (tensor (B, M, C, H, W) or list of
                (M, C, H, W)) and optionally ``data_samples``.
            training (bool): Unused; kept for the mmengine interface.

        Returns:
            dict: ``inputs`` float32 (B, M, C, H, W) on ``self.device`` and
            ``data_samples`` (moved to the device too).
        """
        if not isinstance(data, dict) or 'inputs' not in data:
            raise TypeError('MultiModalDataPreprocessor expects a dict with '
                            f'key "inputs", got {type(data).__name__}')
        data = self.cast_data(data)
        inputs = self._stack(data['inputs'])
        if inputs.ndim != 5:
            raise ValueError(
                'MultiModalDataPreprocessor: inputs must be (B, M, C, H, W) '
                f'(batch, modalities, channels, height, width), got shape '
                f'{tuple(inputs.shape)}; collate with '
                "collate_fn=dict(type='default_collate')")
        _, m, c = inputs.shape[:3]
        if self.to_rgb:
            if c != 3:
                raise ValueError(
                    'MultiModalDataPreprocessor: to_rgb=True needs C=3 '
                    f'channels, got inputs of shape {tuple(inputs.shape)}')
            inputs = inputs.flip(2)
        inputs = inputs.float()
        if self._enable_normalize:
            if self.mean.shape[2] != c:
                raise ValueError(
                    f'MultiModalDataPreprocessor: mean/std have '
                    f'{self.mean.shape[2]} channels but the inputs '
                    f'{tuple(inputs.shape)} have C={c}')
            if self.num_modalities is not None and self.num_modalities != m:
                raise ValueError(
                    'MultiModalDataPreprocessor: mean/std are given for '
                    f'{self.num_modalities} modalities but the inputs '
                    f'{tuple(inputs.shape)} have M={m}')
            inputs = (inputs - self.mean) / self.std
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
