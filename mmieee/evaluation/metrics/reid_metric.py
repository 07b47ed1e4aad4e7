# Copyright (c) mmieee contributors.
"""``ReIDMetric``: mAP / CMC / mINP of a query-gallery retrieval, on top of
:mod:`mmieee.evaluation.functional` (protocol: docs/evaluation.md).

Query / gallery split: each data sample carries ``is_query`` and
``is_gallery`` (set by the dataset). A sample may be both (RGBNT201: the
test set is used as query and as gallery). Then it also appears in the
gallery of its own query; with ``exclude='camera'`` (or ``'scene'``) it is
removed automatically because it has the query's pid and camera (scene).
With ``exclude='none'`` it would match itself, so a warning is logged.

Cross-modal protocol: when the model gives each sample a
``pred_gallery_feature`` besides ``pred_feature`` (``MultiModalReID`` with
``test_cfg.query_blank_modalities`` / ``gallery_blank_modalities``), queries
are represented by ``pred_feature`` and gallery items by
``pred_gallery_feature``; either all samples have one or none.

DDP: ``process`` keeps exactly one record per data sample, so mmengine's
``collect_results`` (called by ``BaseMetric.evaluate`` with the dataset
size) restores the dataset order and drops the samples the sampler padded;
the numbers are those of a single process. Results do not depend on the
order of the records except through the tie-breaking by gallery index
(exact distance ties only).

The ranking is :meth:`~mmieee.evaluation.RankingProtocol.rank` with the
metric's :attr:`ReIDMetric.protocol`, the one ranking of mmieee (rank
lists and the inferencer use it too).
"""
import logging
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from mmieee.registry import METRICS

from ..feature_set import FeatureSet, sample_record
from ..ranking_protocol import RankingProtocol


@METRICS.register_module()
class ReIDMetric(BaseMetric):
    """Re-ID retrieval metric: mAP, CMC@k and mINP, in percent.

    Args:
        metric (str): ``'euclidean'`` (squared, the reference protocol) or
            ``'cosine'``. Defaults to ``'euclidean'``.
        normalize_feature (bool): L2-normalise features before the distance.
            Defaults to False.
        exclude (str): Which gallery items are removed for a query besides
            nothing: ``'camera'`` (same pid and same camid; default),
            ``'scene'`` (same pid and same sceneid; MSVR310) or ``'none'``.
        ranks (Sequence[int]): CMC ranks reported as ``R{k}``.
            Defaults to (1, 5, 10, 20).
        max_rank (int): CMC length computed; must be >= max(ranks).
            Defaults to 50.
        chunk_size (int, optional): Queries ranked at once (memory bound;
            does not change the numbers). Default: about 2**24 / G.
        rerank (bool): Apply k-reciprocal re-ranking (Zhong et al., CVPR
            2017) before ranking. Defaults to False.
        k1 (int): Re-ranking k1. Defaults to 20.
        k2 (int): Re-ranking k2 (query expansion). Defaults to 6.
        lambda_value (float): Weight of the original distance in the
            re-ranked one. Defaults to 0.3.
        device (str, optional): Where distances are computed and ranked:
            ``'cpu'``, ``'cuda'``...; None uses CUDA when available.
        collect_device (str): See :class:`mmengine.evaluator.BaseMetric`.
        prefix (str, optional): Key prefix; defaults to ``'reid'``.
        collect_dir (str, optional): See ``BaseMetric``.

    Attributes:
        protocol (RankingProtocol): The ranking settings above (distance,
            normalisation, exclusion, re-ranking), as every tool reads them.
    """

    default_prefix: Optional[str] = 'reid'

    def __init__(self,
                 metric: str = 'euclidean',
                 normalize_feature: bool = False,
                 exclude: str = 'camera',
                 ranks: Sequence[int] = (1, 5, 10, 20),
                 max_rank: int = 50,
                 chunk_size: Optional[int] = None,
                 rerank: bool = False,
                 k1: int = 20,
                 k2: int = 6,
                 lambda_value: float = 0.3,
                 device: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        try:
            self.protocol = RankingProtocol(
                metric=metric, normalize=normalize_feature, exclude=exclude,
                rerank=rerank, k1=k1, k2=k2, lambda_value=lambda_value,
                chunk_size=chunk_size, device=device)
        except ValueError as err:
            raise ValueError(f'ReIDMetric: {err}') from err
        ranks = tuple(int(k) for k in ranks)
        if not ranks or min(ranks) < 1:
            raise ValueError(f'ReIDMetric: ranks must be >= 1, got {ranks}')
        if max(ranks) > max_rank:
            raise ValueError(f'ReIDMetric: max_rank={max_rank} is smaller '
                             f'than the largest requested rank {max(ranks)}')
        self.ranks = ranks
        self.max_rank = int(max_rank)

    def process(self, data_batch: Any,
                data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        """Keep the record of each sample (:func:`~..sample_record`).

        Args:
            data_batch (Any): The batch (unused).
            data_samples (Sequence[dict | DataSample]): Model outputs;
                mmengine's ``Evaluator`` passes them as dicts
                (``DataSample.to_dict()``); DataSample objects work too.
        """
        for sample in data_samples:
            try:
                self.results.append(sample_record(sample))
            except KeyError as err:
                raise KeyError(f'ReIDMetric: {err.args[0]}') from err

    @staticmethod
    def _check_records(results: List[dict], keys: Sequence[str]) -> None:
        """Every record must have ``keys`` and finite features."""
        for key in keys:
            missing = sum(key not in r for r in results)
            if missing:
                raise KeyError(
                    f'ReIDMetric: {missing} of {len(results)} samples have '
                    f'no "{key}" in their metainfo; the test dataset must '
                    f'set "{key}" in every data_info')
        feats = torch.stack([r['pred_feature'] for r in results])
        bad = ~torch.isfinite(feats).all(dim=1)
        if bad.any():
            raise ValueError(
                f'ReIDMetric: {int(bad.sum())} of {len(feats)} samples have '
                'NaN or infinite features (the first is sample '
                f'{int(bad.nonzero()[0])} of the test set): the model\'s '
                'weights or inputs are not finite, e.g. a checkpoint saved '
                'after the training loss diverged.')

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Split query / gallery, rank and report percentages.

        Args:
            results (list[dict]): Records from :meth:`process` of all ranks.

        Returns:
            dict: ``mAP``, ``R{k}`` for k in ``ranks``, ``mINP`` (percent).
        """
        if len(results) == 0:
            raise ValueError('ReIDMetric: no results to evaluate')
        group = self.protocol.group_key
        group = [] if group is None else [group[:-1]]  # camids -> camid
        self._check_records(results,
                            ['pid', 'is_query', 'is_gallery'] + group)
        try:
            features = FeatureSet.from_records(results, 'the test set')
            query, gallery = features.query_gallery()
        except ValueError as err:
            raise ValueError(f'ReIDMetric: {err}') from err
        num_both = int((features.is_query & features.is_gallery).sum())
        if self.protocol.exclude == 'none' and num_both:
            print_log(
                f"ReIDMetric: exclude='none' and {num_both} "
                'samples are both query and gallery: each such query '
                'matches itself at distance 0',
                logger='current',
                level=logging.WARNING)
        res = self.protocol.rank(
            query, gallery, evaluate=True, max_rank=self.max_rank)
        skipped = len(query) - res['num_valid_queries']
        if skipped:
            print_log(
                f'ReIDMetric: {skipped} of {len(query)} queries have no '
                f'positive gallery sample left after exclude='
                f"'{self.protocol.exclude}' and were skipped",
                logger='current',
                level=logging.WARNING)
        metrics = {'mAP': float(res['mAP']) * 100}
        for k in self.ranks:
            metrics[f'R{k}'] = float(res['cmc'][k - 1]) * 100
        metrics['mINP'] = float(res['mINP']) * 100
        return metrics
