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
"""
import logging
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from mmieee.registry import METRICS

from ..functional import distance_rows, evaluate_rows

EXCLUDE_MODES = {'camera': 'camid', 'scene': 'sceneid', 'none': None}


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
        if metric not in ('euclidean', 'cosine'):
            raise ValueError("ReIDMetric: metric must be 'euclidean' or "
                             f"'cosine', got {metric!r}")
        if exclude not in EXCLUDE_MODES:
            raise ValueError('ReIDMetric: exclude must be one of '
                             f'{tuple(EXCLUDE_MODES)}, got {exclude!r}')
        ranks = tuple(int(k) for k in ranks)
        if not ranks or min(ranks) < 1:
            raise ValueError(f'ReIDMetric: ranks must be >= 1, got {ranks}')
        if max(ranks) > max_rank:
            raise ValueError(f'ReIDMetric: max_rank={max_rank} is smaller '
                             f'than the largest requested rank {max(ranks)}')
        self.metric = metric
        self.normalize_feature = normalize_feature
        self.exclude = exclude
        self.ranks = ranks
        self.max_rank = int(max_rank)
        self.chunk_size = chunk_size
        self.rerank = rerank
        self.k1, self.k2, self.lambda_value = k1, k2, lambda_value
        self.device = device

    def process(self, data_batch: Any,
                data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        """Keep one record per sample: feature, ids and query/gallery flags.

        Args:
            data_batch (Any): The batch (unused).
            data_samples (Sequence[dict | DataSample]): Model outputs;
                mmengine's ``Evaluator`` passes them as dicts
                (``DataSample.to_dict()``); DataSample objects work too.
        """
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            if 'pred_feature' not in sample:
                raise KeyError('ReIDMetric: a data sample has no '
                               '"pred_feature"; the model must run in '
                               "'predict' mode and set it")
            record = {}
            for key in ('pred_feature', 'pred_gallery_feature'):
                if key in sample:
                    feat = sample[key]
                    if not isinstance(feat, torch.Tensor):
                        feat = torch.as_tensor(np.asarray(feat))
                    record[key] = feat.detach().reshape(-1).cpu()
            for key in ('pid', 'camid', 'sceneid'):
                value = sample.get(key, None)
                record[key] = None if value is None else int(value)
            for key in ('is_query', 'is_gallery'):
                value = sample.get(key, None)
                record[key] = None if value is None else bool(value)
            self.results.append(record)

    def _column(self, results: List[dict], key: str) -> np.ndarray:
        values = [r[key] for r in results]
        missing = sum(v is None for v in values)
        if missing:
            raise KeyError(f'ReIDMetric: {missing} of {len(values)} samples '
                           f'have no "{key}" in their metainfo; the test '
                           f'dataset must set "{key}" in every data_info')
        return np.asarray(values, dtype=np.int64)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Split query / gallery, rank and report percentages.

        Args:
            results (list[dict]): Records from :meth:`process` of all ranks.

        Returns:
            dict: ``mAP``, ``R{k}`` for k in ``ranks``, ``mINP`` (percent).
        """
        if len(results) == 0:
            raise ValueError('ReIDMetric: no results to evaluate')
        feats = torch.stack([r['pred_feature'] for r in results]).float()
        bad = ~torch.isfinite(feats).all(dim=1)
        if bad.any():
            raise ValueError(
                f'ReIDMetric: {int(bad.sum())} of {len(feats)} samples have '
                'NaN or infinite features (the first is sample '
                f'{int(bad.nonzero()[0])} of the test set): the model\'s '
                'weights or inputs are not finite, e.g. a checkpoint saved '
                'after the training loss diverged.')
        two_sided = sum('pred_gallery_feature' in r for r in results)
        if two_sided not in (0, len(results)):
            raise ValueError(
                f'ReIDMetric: {two_sided} of {len(results)} samples have a '
                '"pred_gallery_feature"; the query/gallery blanking of the '
                'model must be the same for every sample')
        g_feats = feats if not two_sided else torch.stack(
            [r['pred_gallery_feature'] for r in results]).float()
        pids = self._column(results, 'pid')
        is_query = self._column(results, 'is_query').astype(bool)
        is_gallery = self._column(results, 'is_gallery').astype(bool)
        if not is_query.any() or not is_gallery.any():
            raise ValueError(
                f'ReIDMetric: the test set has {int(is_query.sum())} query '
                f'and {int(is_gallery.sum())} gallery samples; both must be '
                'non-empty. The dataset sets "is_query" / "is_gallery" per '
                'data_info (query folder -> is_query=True, gallery folder '
                '-> is_gallery=True; a sample used as both, RGBNT201-style, '
                'has both True)')
        group_key = EXCLUDE_MODES[self.exclude]
        groups = None if group_key is None else self._column(
            results, group_key)
        num_both = int((is_query & is_gallery).sum())
        if group_key is None and num_both:
            print_log(
                f"ReIDMetric: exclude='none' and {num_both} "
                'samples are both query and gallery: each such query '
                'matches itself at distance 0',
                logger='current',
                level=logging.WARNING)
        device = self.device
        if device is None:
            device = 'cuda' if torch.cuda.is_available() else 'cpu'
        qf = feats.to(device)[torch.from_numpy(is_query).to(device)]
        gf = g_feats.to(device)[torch.from_numpy(is_gallery).to(device)]
        q_pids, g_pids = pids[is_query], pids[is_gallery]
        q_groups = None if groups is None else groups[is_query]
        g_groups = None if groups is None else groups[is_gallery]
        with torch.no_grad():
            row_fn, num_q, rows_device = distance_rows(
                qf, gf, self.metric, self.normalize_feature, self.rerank,
                self.k1, self.k2, self.lambda_value, self.chunk_size)
            res = evaluate_rows(row_fn, num_q, q_pids, g_pids, q_groups,
                                g_groups, self.max_rank, self.chunk_size,
                                rows_device)
        skipped = qf.shape[0] - res['num_valid_queries']
        if skipped:
            print_log(
                f'ReIDMetric: {skipped} of {qf.shape[0]} queries have no '
                f'positive gallery sample left after exclude='
                f"'{self.exclude}' and were skipped",
                logger='current',
                level=logging.WARNING)
        metrics = {'mAP': float(res['mAP']) * 100}
        for k in self.ranks:
            metrics[f'R{k}'] = float(res['cmc'][k - 1]) * 100
        metrics['mINP'] = float(res['mINP']) * 100
        return metrics
