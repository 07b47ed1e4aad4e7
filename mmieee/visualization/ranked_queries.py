# Copyright (c) mmieee contributors.
"""The ranked gallery of every query of a feature set, computed exactly as
the metric computes it, and the choice of the queries to show.

A rank list is only useful when its "rank 1" is the metric's rank 1. So the
settings (distance, normalisation, re-ranking, exclusion rule) come from the
config's :class:`~mmieee.evaluation.ReIDMetric` and the ranking from the
functions the metric itself calls:
:func:`~mmieee.evaluation.functional.distance_rows` (distances, re-ranking),
:func:`~mmieee.evaluation.functional.rank_gallery` (the protocol-filtered
top-k: gallery items with the query's id and camera / scene are skipped) and
:func:`~mmieee.evaluation.functional.evaluate_rows` with ``per_query=True``
(each query's AP and the rank of its first match).

A feature set is the dict of ``tools/test.py --dump`` /
:func:`mmieee.evaluation.collect_features`.
"""
from typing import Dict, List, Mapping, Optional, Union

import numpy as np
import torch
from mmengine.config import Config, ConfigDict

from mmieee.evaluation.functional import (distance_rows, evaluate_rows,
                                          rank_gallery)
from mmieee.evaluation.metrics import ReIDMetric
from mmieee.evaluation.metrics.reid_metric import EXCLUDE_MODES
from mmieee.registry import METRICS

#: Query orders of :func:`select_queries`.
ORDERS = ('worst', 'best', 'random')


def find_reid_metric(evaluator: Union[Config, ConfigDict, dict, list,
                                      object],
                     where: str = 'test_evaluator') -> ReIDMetric:
    """The :class:`ReIDMetric` of an evaluator config or Evaluator.

    Args:
        evaluator: A config's ``test_evaluator`` (a metric dict, a list of
            them, or ``dict(type='Evaluator', metrics=[...])``), or a built
            :class:`mmengine.evaluator.Evaluator`.
        where (str): Name used in the error message.

    Returns:
        ReIDMetric: Built from the config (its defaults filled in) or the
        Evaluator's own instance.

    Raises:
        ValueError: No ``ReIDMetric`` (or more than one) is found.
    """
    if hasattr(evaluator, 'metrics') and not isinstance(evaluator, dict):
        found = [m for m in evaluator.metrics if isinstance(m, ReIDMetric)]
    else:
        if isinstance(evaluator, dict) and 'metrics' in evaluator:
            evaluator = evaluator['metrics']
        items = evaluator if isinstance(evaluator, (list, tuple)) \
            else [evaluator]
        found = []
        for item in items:
            if isinstance(item, ReIDMetric):
                found.append(item)
            elif isinstance(item, dict) and str(item.get('type', '')).split(
                    '.')[-1] == 'ReIDMetric':
                found.append(METRICS.build(dict(item)))
    if len(found) != 1:
        raise ValueError(
            f'{where} must hold exactly one ReIDMetric (its distance, '
            f're-ranking and exclusion settings define the ranking), found '
            f'{len(found)} in {evaluator!r}')
    return found[0]


def _column(features: Mapping, key: str, source: str) -> np.ndarray:
    if key not in features:
        raise KeyError(f'{source}: the feature set has no {key!r} (keys: '
                       f'{sorted(features)}); write it with tools/test.py '
                       '--dump')
    return np.asarray(features[key])


def rank_queries(features: Mapping,
                 metric: ReIDMetric,
                 topk: int = 10,
                 source: str = 'rank_queries') -> Dict[str, np.ndarray]:
    """Rank the gallery of every query of a feature set as ``metric`` does.

    Args:
        features (Mapping): ``feats`` (N, D), ``pids``, ``is_query``,
            ``is_gallery`` and the exclusion key of ``metric.exclude``
            (``camids`` / ``sceneids``), all (N,).
        metric (ReIDMetric): Distance, normalisation, re-ranking and
            exclusion settings.
        topk (int): Gallery items kept per query.
        source (str): Name of the feature set in error messages.

    Returns:
        dict: With Q queries and G gallery items:

        - ``query_rows`` (Q,), ``gallery_rows`` (G,): rows of the feature
          set;
        - ``indices`` (Q, topk): feature-set rows of the ranked gallery
          items, nearest first, protocol-excluded items skipped, ``-1``
          padding; ``distances`` (Q, topk), NaN padding;
        - ``matches`` (Q, topk) bool: same pid as the query;
        - ``ap``, ``inp`` (Q,) float, ``first_rank`` (Q,) int,
          ``valid`` (Q,) bool (the query has a positive left; AP is
          undefined otherwise), ``num_excluded`` (Q,) int.

    Raises:
        KeyError: A needed key is missing from the feature set.
        ValueError: The feature set has no query or no gallery item.
    """
    feats = _column(features, 'feats', source)
    num = len(feats)
    pids = _column(features, 'pids', source).astype(np.int64)
    is_query = _column(features, 'is_query', source).astype(bool)
    is_gallery = _column(features, 'is_gallery', source).astype(bool)
    for key, arr in (('pids', pids), ('is_query', is_query),
                     ('is_gallery', is_gallery)):
        if arr.shape != (num, ):
            raise ValueError(f'{source}: {key!r} has shape {arr.shape}, '
                             f'expected ({num},) (one per feature row)')
    if not is_query.any() or not is_gallery.any():
        raise ValueError(
            f'{source}: {int(is_query.sum())} query and '
            f'{int(is_gallery.sum())} gallery samples; both must be '
            'non-empty')
    group_key = EXCLUDE_MODES[metric.exclude]
    groups = None if group_key is None else _column(
        features, f'{group_key}s', source).astype(np.int64)
    q_rows, g_rows = np.flatnonzero(is_query), np.flatnonzero(is_gallery)
    device = metric.device or ('cuda'
                               if torch.cuda.is_available() else 'cpu')
    feats_t = torch.as_tensor(np.asarray(feats, dtype=np.float32)).to(device)
    q_pids, g_pids = pids[q_rows], pids[g_rows]
    q_groups = None if groups is None else groups[q_rows]
    g_groups = None if groups is None else groups[g_rows]
    with torch.no_grad():
        row_fn, num_q, rows_device = distance_rows(
            feats_t[torch.from_numpy(q_rows).to(device)],
            feats_t[torch.from_numpy(g_rows).to(device)], metric.metric,
            metric.normalize_feature, metric.rerank, metric.k1, metric.k2,
            metric.lambda_value, metric.chunk_size)
        stats = evaluate_rows(
            row_fn,
            num_q,
            q_pids,
            g_pids,
            q_groups,
            g_groups,
            max_rank=metric.max_rank,
            chunk_size=metric.chunk_size,
            device=rows_device,
            per_query=True)
        ranked = rank_gallery(row_fn, num_q, topk, q_pids, g_pids, q_groups,
                              g_groups, metric.chunk_size, rows_device)
    cols = ranked['indices']
    indices = np.where(cols >= 0, g_rows[np.maximum(cols, 0)], -1)
    matches = (cols >= 0) & (pids[np.maximum(indices, 0)] ==
                             q_pids[:, None])
    return dict(
        query_rows=q_rows,
        gallery_rows=g_rows,
        indices=indices,
        distances=ranked['distances'],
        matches=matches,
        ap=stats['ap'],
        inp=stats['inp'],
        first_rank=stats['first_rank'],
        valid=stats['valid'],
        num_excluded=ranked['num_excluded'])


def select_queries(ranked: Mapping,
                   num: Optional[int],
                   order: str = 'worst',
                   seed: int = 0) -> List[int]:
    """Which queries to show, as positions into ``ranked['query_rows']``.

    Queries with a positive come first: ``'worst'`` by AP ascending (as
    fast-reid's rank-list tool), ``'best'`` by AP descending, ``'random'``
    in a seeded random order; ties keep query order. Queries without a
    positive in the gallery (AP undefined, skipped by the metric) come
    after them, in query order.

    Args:
        ranked (Mapping): Output of :func:`rank_queries`.
        num (int, optional): How many; None: all.
        order (str): ``'worst'``, ``'best'`` or ``'random'``.
        seed (int): Seed of the random order.

    Returns:
        list[int]: Query positions.
    """
    if order not in ORDERS:
        raise ValueError(f'order must be one of {ORDERS}, got {order!r}')
    ap, valid = np.asarray(ranked['ap']), np.asarray(ranked['valid'], bool)
    with_pos = np.flatnonzero(valid)
    if order == 'worst':
        with_pos = with_pos[np.argsort(ap[with_pos], kind='stable')]
    elif order == 'best':
        with_pos = with_pos[np.argsort(-ap[with_pos], kind='stable')]
    else:
        with_pos = np.random.default_rng(seed).permutation(with_pos)
    chosen = np.concatenate([with_pos, np.flatnonzero(~valid)])
    if num is not None:
        if int(num) < 1:
            raise ValueError(f'the number of queries must be >= 1, got {num}')
        chosen = chosen[:int(num)]
    return [int(i) for i in chosen]
