# Copyright (c) mmieee contributors.
"""IEEE head: the M x P part classifiers and the training losses (paper Eq.
6-8).

- CE (Eq. 7): one Linear(C, num_classes) per modality and part; the
  label-smoothed cross entropy of every part classifier, summed over the
  M x P parts (official; ``ce_reduction='mean'`` averages instead). Each
  part's CE is itself averaged over the batch.

  Execution: the M x P classifiers run as one batched matrix product of
  their stacked weights, and the M x P part losses as one call of the loss
  on all M·P·B rows (the mean over all rows is the mean of the M x P
  per-part means, the parts having B rows each; ``'sum'`` multiplies it by
  M·P). The values are those of M x P separate calls up to float rounding,
  with a few kernel launches and one label check (mmpretrain's losses read
  the largest label back to the host, a GPU sync) instead of M x P of each
  (docs/performance.md measures the gain).
- Metric losses (e.g. 3M, Eq. 6; total loss Eq. 8 = CE + δ · 3M with δ the
  metric loss' ``loss_weight``), built from config following the metric-loss
  interface: ``input_level='modality'`` losses get (B, M, P*C) (each
  modality's parts concatenated, part 0 first), ``'fused'`` ones (B, M*P*C).
- ``acc_top{k}``: top-k accuracy (in percent, like mmpretrain's heads) of the
  sum of the M x P part logits -- one prediction per sample, from all parts.
- ``predict``: ``pred_feature`` = the flattened (M*P*C,) part embeddings (not
  normalised; 2304-d for the full model).

Label smoothing: mmpretrain 1.2's ``CrossEntropyLoss`` has no label-smoothing
argument; smoothing is ``mmpretrain.LabelSmoothLoss`` whose ``'original'``
mode, (1 - ε) one-hot + ε / K, is the smoothing of the official (torchreid)
code. The default ``loss_ce`` is therefore
``dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1,
mode='original', loss_weight=1.0)``.
"""
import copy
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseModule, ModuleList
from mmpretrain.structures import DataSample
from torch import nn

from mmieee.registry import MODELS
from mmieee.utils.arg_checks import check_int

_CE_REDUCTIONS = ('sum', 'mean')
_INPUT_LEVELS = ('modality', 'fused')


@MODELS.register_module()
class IEEEHead(BaseModule):
    """Part classifiers + CE and metric losses.

    Submodules (names relied on by the official-checkpoint converter):
    ``classifiers.{m}.{p}`` = ``nn.Linear(in_channels, num_classes)``.
    None of the head's parameters enters the test feature (``predict``
    flattens the neck's embeddings), which
    :attr:`training_only_prefixes` declares for evaluation loading.

    Args:
        num_classes (int): Number of training identities.
        num_modalities (int): M, the number of branches the neck outputs
            (1 for a single fused branch, see :mod:`mmieee.models.fusions`).
            Defaults to 3.
        num_parts (int): P. Defaults to 6.
        in_channels (int): C, size of each part embedding. Defaults to 128.
        loss_ce (dict): Config of the per-part classification loss, called
            as ``loss(logits (N, K), labels (N,))`` and averaging over the N
            rows (``reduction='mean'``, checked). Defaults to
            label-smoothed CE, ε = 0.1 (see module docstring).
        ce_reduction (str): ``'sum'`` (official) or ``'mean'`` over the M x P
            part losses. Defaults to ``'sum'``.
        metric_losses (Sequence[dict]): Configs of metric losses (each with
            ``input_level`` and a unique ``loss_name``). Defaults to the 3M
            loss with official settings.
        topk (Sequence[int]): Accuracies reported as ``acc_top{k}``.
            Defaults to (1,).
        init_cfg (dict, optional): mmengine init config. Defaults to None
            (PyTorch's default Linear init, as in the official code).
    """

    #: State-dict keys (relative to the head) the test feature does not
    #: depend on: the training classifiers (sized by the number of training
    #: identities) and the losses' parameters (e.g. CenterLoss centres).
    #: Evaluation loading reports differences there instead of refusing
    #: them (:func:`mmieee.utils.load_weights.training_only_prefixes`).
    training_only_prefixes = ('classifiers.', 'metric_losses.', 'loss_ce.')

    def __init__(self,
                 num_classes: int,
                 num_modalities: int = 3,
                 num_parts: int = 6,
                 in_channels: int = 128,
                 loss_ce: dict = dict(
                     type='mmpretrain.LabelSmoothLoss',
                     label_smooth_val=0.1,
                     mode='original',
                     loss_weight=1.0),
                 ce_reduction: str = 'sum',
                 metric_losses: Sequence[dict] = (dict(
                     type='MultiModalMarginLoss'), ),
                 topk: Sequence[int] = (1, ),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_int('IEEEHead', 'num_classes', num_classes)
        if ce_reduction not in _CE_REDUCTIONS:
            raise ValueError(f'IEEEHead: ce_reduction must be one of '
                             f'{_CE_REDUCTIONS}, got {ce_reduction!r}')
        topk = tuple(topk)
        if not topk or any(k < 1 or k > num_classes for k in topk):
            raise ValueError(f'IEEEHead: every topk must be in [1, '
                             f'num_classes={num_classes}], got {topk}')
        self.num_classes = num_classes
        self.num_modalities = num_modalities
        self.num_parts = num_parts
        self.in_channels = in_channels
        self.ce_reduction = ce_reduction
        self.topk = topk

        self.classifiers = ModuleList([
            ModuleList([
                nn.Linear(in_channels, num_classes) for _ in range(num_parts)
            ]) for _ in range(num_modalities)
        ])
        self.loss_ce = self._build_ce(loss_ce)
        self.metric_losses = ModuleList(
            self._build_metric_losses(metric_losses or ()))

    @staticmethod
    def _build_ce(cfg: dict) -> nn.Module:
        try:
            loss = MODELS.build(copy.deepcopy(cfg))
        except TypeError as err:
            if 'label_smooth_val' in cfg:
                raise TypeError(
                    f'IEEEHead: could not build loss_ce={cfg!r} ({err}). In '
                    'mmpretrain 1.x label smoothing is '
                    "dict(type='mmpretrain.LabelSmoothLoss', "
                    "label_smooth_val=0.1, mode='original'), not an argument "
                    'of CrossEntropyLoss') from err
            raise
        reduction = getattr(loss, 'reduction', 'mean')
        if reduction != 'mean':
            # The M x P part losses are computed in one call (module doc).
            raise ValueError(
                f'IEEEHead: loss_ce={cfg!r} has reduction={reduction!r}; '
                "each part's loss must be the mean over the batch "
                "(reduction='mean'); ce_reduction chooses how the parts "
                'are combined')
        return loss

    def _build_metric_losses(self, cfgs: Sequence[dict]) -> List[nn.Module]:
        losses, names = [], {'loss_ce'}
        for cfg in cfgs:
            loss = MODELS.build(copy.deepcopy(cfg))
            need = getattr(loss, 'min_modalities', 1)
            if self.num_modalities < need:
                raise ValueError(
                    f'IEEEHead: metric loss {type(loss).__name__} '
                    f'({loss.loss_name}) compares at least {need} modality '
                    f'branches, the head gets {self.num_modalities} (a '
                    'single fused branch trains with CE and fused-level '
                    'losses only); remove it from model.head.metric_losses')
            level = getattr(loss, 'input_level', None)
            name = getattr(loss, 'loss_name', None)
            if level not in _INPUT_LEVELS:
                raise ValueError(
                    f'IEEEHead: metric loss {cfg!r} has input_level='
                    f'{level!r}; expected one of {_INPUT_LEVELS}')
            if not isinstance(name, str) or not name.startswith('loss_'):
                raise ValueError(f'IEEEHead: metric loss {cfg!r} needs a '
                                 f'loss_name starting with "loss_", got '
                                 f'{name!r}')
            if name in names:
                raise ValueError(f'IEEEHead: duplicate loss_name {name!r} in '
                                 'metric_losses (or clash with loss_ce); give '
                                 'each loss its own loss_name')
            names.add(name)
            losses.append(loss)
        return losses

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Part logits.

        Args:
            feats (Tensor): (B, M, P, C) part embeddings.

        Returns:
            Tensor: (B, M, P, num_classes) logits of every part classifier.
        """
        b, m, p, c = feats.shape
        want = (self.num_modalities, self.num_parts, self.in_channels)
        if (m, p, c) != want:
            names = ('num_modalities', 'num_parts', 'in_channels')
            wrong = [f'model.head.{n}={w} but the neck gives {g}'
                     for n, w, g in zip(names, want, (m, p, c)) if w != g]
            raise ValueError(
                f'IEEEHead: {"; ".join(wrong)} (the neck outputs (B, M, P, '
                f'C) = {tuple(feats.shape)}; model.neck.out_channels and '
                'num_parts must equal the head\'s in_channels and num_parts)')
        classifiers = [cls for per in self.classifiers for cls in per]
        weight = torch.stack([cls.weight for cls in classifiers])  # (MP,K,C)
        bias = torch.stack([cls.bias for cls in classifiers])  # (MP, K)
        # (MP, B, C) x (MP, C, K) + (MP, 1, K) -> (MP, B, K)
        logits = torch.baddbmm(
            bias.unsqueeze(1),
            feats.reshape(b, m * p, c).transpose(0, 1),
            weight.transpose(1, 2))
        return logits.transpose(0, 1).reshape(b, m, p, -1)

    def loss(self, feats: torch.Tensor,
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """Training losses.

        Args:
            feats (Tensor): (B, M, P, C) part embeddings.
            data_samples (list[DataSample]): B samples with ``gt_label``.

        Returns:
            dict[str, Tensor]: ``loss_ce``, one entry per metric loss (its
            ``loss_name``) and ``acc_top{k}`` for each k of ``topk``.
        """
        logits = self(feats)
        labels = self._labels(data_samples, feats.device)
        b, m, p, k = logits.shape
        # Rows (part, sample): the mean over them is the mean of the M x P
        # per-part means (module docstring).
        rows = logits.transpose(0, 1).transpose(1, 2).reshape(m * p * b, k)
        loss_ce = self.loss_ce(rows, labels.repeat(m * p))
        if self.ce_reduction == 'sum':
            loss_ce = loss_ce * (m * p)
        losses = dict(loss_ce=loss_ce)
        for metric_loss in self.metric_losses:
            if metric_loss.input_level == 'modality':
                inputs = feats.flatten(2)  # (B, M, P*C)
            else:
                inputs = feats.flatten(1)  # (B, M*P*C)
            losses[metric_loss.loss_name] = metric_loss(inputs, labels)
        with torch.no_grad():
            scores = logits.detach().sum(dim=(1, 2))  # (B, num_classes)
            top = scores.topk(max(self.topk), dim=1).indices
            hits = top == labels.view(-1, 1)
            for k in self.topk:
                losses[f'acc_top{k}'] = \
                    hits[:, :k].any(dim=1).float().mean() * 100
        return losses

    def test_features(self, feats: torch.Tensor) -> torch.Tensor:
        """The (B, M*P*C) test feature: the flattened part embeddings."""
        return feats.flatten(1)

    def predict(
            self,
            feats: torch.Tensor,
            data_samples: Optional[List[DataSample]] = None
    ) -> List[DataSample]:
        """Store the test feature in the data samples.

        Args:
            feats (Tensor): (B, M, P, C) part embeddings.
            data_samples (list[DataSample], optional): B samples; created
                when None.

        Returns:
            list[DataSample]: the samples with ``pred_feature`` (M*P*C,).
        """
        flat = self.test_features(feats)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(flat.size(0))]
        if len(data_samples) != flat.size(0):
            raise ValueError(f'IEEEHead.predict: {len(data_samples)} data '
                             f'samples for a batch of {flat.size(0)}')
        for sample, feat in zip(data_samples, flat):
            sample.set_field(feat, 'pred_feature')
        return data_samples

    @staticmethod
    def _labels(data_samples: List[DataSample],
                device: torch.device) -> torch.Tensor:
        try:
            labels = [s.gt_label.reshape(-1) for s in data_samples]
        except AttributeError as err:
            raise ValueError('IEEEHead.loss: every data sample needs a '
                             'gt_label (DataSample.set_gt_label)') from err
        return torch.cat(labels).to(device=device, dtype=torch.long)
