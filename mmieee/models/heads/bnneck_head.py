# Copyright (c) mmieee contributors.
"""BN-neck head: per named feature, a BatchNorm "neck" and a bias-free
classifier, trained with a classification and a metric loss (Luo et al.,
"Bag of Tricks and A Strong Baseline for Deep Person Re-identification",
CVPR-W 2019, § BNNeck; the heads of TransReID, TOP-ReID and DeMo).

The neck before it returns a dict of named features, each (B, D_name), and
during training optionally auxiliary losses (keys starting with ``loss_``,
e.g. TOP-ReID's reconstruction loss), which are passed through. For every
branch ``name`` listed in ``branches``:

* ``bn = BatchNorm1d(D)(feat)`` with its bias frozen at 0 (weight 1 at
  init), ``logits = Linear(D, num_classes, bias=False)(bn)`` (weights
  normal, std 0.001);
* ``loss_ce_<name>`` = ``loss_ce(logits, labels)`` (label-smoothed CE by
  default) and ``loss_triplet_<name>`` = ``loss_triplet(feat, labels)`` on
  the feature BEFORE the BN neck (soft-margin batch-hard triplet by default),
  each with its ``loss_weight``;
* ``acc_top1_<name>``.

So the total mmengine sums is ``sum over branches (CE + triplet) +
auxiliary losses``, the sum the official processors of TOP-ReID and DeMo
compute. ``predict`` stores ``pred_feature`` = the concatenation of the
``test_feature`` branches, before the BN neck (``neck_feat='before'``, the
official test setting of both) or after it.
"""
import copy
from typing import Dict, List, Mapping, Optional, Sequence

import torch
from mmengine.model import BaseModule
from mmpretrain.structures import DataSample
from torch import nn

from mmieee.registry import MODELS
from mmieee.utils.arg_checks import check_int

NECK_FEATS = ('before', 'after')


@MODELS.register_module()
class BNNeckHead(BaseModule):
    """BN neck + classifier per named feature; CE + metric loss on each.

    Submodules (names relied on by the official-checkpoint converters):
    ``bnnecks.<name>`` (``BatchNorm1d``) and ``classifiers.<name>``
    (``Linear`` without bias).

    Args:
        num_classes (int): Number of training identities.
        branches (Mapping[str, int]): Feature name -> its size D, in the
            order the losses are logged.
        test_feature (Sequence[str]): Branches concatenated into
            ``pred_feature``, in this order.
        loss_ce (dict, optional): Classification loss on the logits
            (averaging over the batch); None: none. Defaults to
            label-smoothed CE (epsilon 0.1, the ``(1 - e) one-hot + e / K``
            target of the official ``CrossEntropyLabelSmooth``).
        loss_triplet (dict, optional): Metric loss on the features before
            the BN neck, called ``loss(feats (B, D), labels (B,))``; None:
            none. Defaults to the soft-margin batch-hard triplet loss.
        neck_feat (str): ``'before'`` or ``'after'`` the BN neck for
            ``pred_feature``. Defaults to ``'before'``.
        num_modalities (int, optional): Filled in by ``MultiModalReID``
            (unused: the branches are named). Defaults to None.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self,
                 num_classes: int,
                 branches: Mapping[str, int],
                 test_feature: Sequence[str],
                 loss_ce: Optional[dict] = dict(
                     type='mmpretrain.LabelSmoothLoss',
                     label_smooth_val=0.1,
                     mode='original',
                     loss_weight=1.0),
                 loss_triplet: Optional[dict] = dict(
                     type='TripletLoss', margin=None),
                 neck_feat: str = 'before',
                 num_modalities: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_int('BNNeckHead', 'num_classes', num_classes)
        branches = dict(branches)
        if not branches:
            raise ValueError('BNNeckHead: branches is empty')
        test_feature = tuple(test_feature)
        unknown = [n for n in test_feature if n not in branches]
        if not test_feature or unknown:
            raise ValueError(
                f'BNNeckHead: test_feature={test_feature} must name '
                f'branches of {tuple(branches)}')
        if neck_feat not in NECK_FEATS:
            raise ValueError(f'BNNeckHead: neck_feat must be one of '
                             f'{NECK_FEATS}, got {neck_feat!r}')
        self.num_classes = num_classes
        self.branches = branches
        self.test_feature = test_feature
        self.neck_feat = neck_feat
        self.bnnecks = nn.ModuleDict()
        self.classifiers = nn.ModuleDict()
        for name, dim in branches.items():
            bn = nn.BatchNorm1d(dim)
            bn.bias.requires_grad_(False)
            self.bnnecks[name] = bn
            self.classifiers[name] = nn.Linear(dim, num_classes, bias=False)
        self.loss_ce = None if loss_ce is None else MODELS.build(
            copy.deepcopy(loss_ce))
        self.loss_triplet = None if loss_triplet is None else MODELS.build(
            copy.deepcopy(loss_triplet))
        self.reset_classifiers()

    @property
    def training_only_prefixes(self) -> tuple:
        """Keys that take no part in the test feature (evaluation loading
        reports differences there in one line and goes on, e.g. another
        number of training identities; :mod:`mmieee.utils.load_weights`):
        the classifiers, and the BN necks when ``neck_feat='before'``."""
        return ('classifiers.', ) + (('bnnecks.', )
                                     if self.neck_feat == 'before' else ())

    def reset_classifiers(self) -> None:
        """The official initialisation: BN weight 1, bias 0 (frozen);
        classifier weights normal with std 0.001."""
        for name in self.branches:
            nn.init.ones_(self.bnnecks[name].weight)
            nn.init.zeros_(self.bnnecks[name].bias)
            nn.init.normal_(self.classifiers[name].weight, std=0.001)

    def _check(self, feats: Mapping[str, torch.Tensor]) -> None:
        missing = [n for n in self.branches if n not in feats]
        if missing:
            raise KeyError(
                f'BNNeckHead: the neck gave the features '
                f'{sorted(k for k in feats if not k.startswith("loss_"))}, '
                f'not {missing} (head.branches)')
        for name, dim in self.branches.items():
            if feats[name].dim() != 2 or feats[name].shape[1] != dim:
                raise ValueError(
                    f'BNNeckHead: feature {name!r} has shape '
                    f'{tuple(feats[name].shape)}, head.branches says '
                    f'(B, {dim})')

    def forward(self, feats: Mapping[str, torch.Tensor]
                ) -> Dict[str, torch.Tensor]:
        """Logits of every branch.

        Args:
            feats (Mapping[str, Tensor]): The neck's features, (B, D_name).

        Returns:
            dict[str, Tensor]: Branch name -> (B, num_classes) logits.
        """
        self._check(feats)
        return {
            name: self.classifiers[name](self.bnnecks[name](feats[name]))
            for name in self.branches
        }

    def loss(self, feats: Mapping[str, torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """Training losses (module docstring) and accuracies.

        Args:
            feats (Mapping[str, Tensor]): The neck's features and auxiliary
                ``loss_*`` terms.
            data_samples (list[DataSample]): B samples with ``gt_label``.

        Returns:
            dict[str, Tensor]: ``loss_ce_<name>``, ``loss_triplet_<name>``,
            the neck's ``loss_*`` terms, ``acc_top1_<name>``.
        """
        logits = self(feats)
        try:
            labels = torch.cat([s.gt_label.reshape(-1) for s in data_samples])
        except AttributeError as err:
            raise ValueError('BNNeckHead.loss: every data sample needs a '
                             'gt_label') from err
        labels = labels.to(device=next(iter(logits.values())).device,
                           dtype=torch.long)
        losses = {}
        for name in self.branches:
            if self.loss_ce is not None:
                losses[f'loss_ce_{name}'] = self.loss_ce(logits[name], labels)
            if self.loss_triplet is not None:
                losses[f'loss_triplet_{name}'] = self.loss_triplet(
                    feats[name], labels)
        losses.update(
            {k: v for k, v in feats.items() if k.startswith('loss_')})
        with torch.no_grad():
            for name in self.branches:
                hits = logits[name].argmax(dim=1) == labels
                losses[f'acc_top1_{name}'] = hits.float().mean() * 100
        return losses

    def test_features(self, feats: Mapping[str, torch.Tensor]
                      ) -> torch.Tensor:
        """The (B, sum D) test feature (``test_feature`` branches)."""
        self._check(feats)
        parts = [
            feats[n] if self.neck_feat == 'before' else self.bnnecks[n](
                feats[n]) for n in self.test_feature
        ]
        return torch.cat(parts, dim=1)

    def predict(self,
                feats: Mapping[str, torch.Tensor],
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """Store the test feature as each sample's ``pred_feature``."""
        flat = self.test_features(feats)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(flat.size(0))]
        for sample, feat in zip(data_samples, flat):
            sample.set_field(feat, 'pred_feature')
        return data_samples
