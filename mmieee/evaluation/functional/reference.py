# Copyright (c) mmieee contributors.
"""The Re-ID evaluation protocol in a few readable lines.

This is the definition the fast evaluator (:mod:`.ranking`) is tested
against, written to be checked line by line with torchreid's
``eval_market1501`` and fast-reid's ``evaluate_rank``: one query at a time,
sort the gallery by distance (stable: ties by gallery index), drop the
gallery items with the query's id and exclusion group (camera, or scene),
then read CMC, AP and INP off the positions of the positives. It is
O(Q·G·log G) in NumPy and meant for small sets, tests and the benchmark.
"""
from typing import Dict, Optional

import numpy as np


def evaluate_rank_reference(distmat: np.ndarray,
                            q_pids: np.ndarray,
                            g_pids: np.ndarray,
                            q_groups: Optional[np.ndarray],
                            g_groups: Optional[np.ndarray],
                            max_rank: int = 50) -> Dict:
    """CMC, mAP and mINP, one query at a time.

    Args:
        distmat (np.ndarray): (Q, G) distances, smaller is more similar.
        q_pids, g_pids (np.ndarray): (Q,) and (G,) identities.
        q_groups, g_groups (np.ndarray | None): (Q,) and (G,) exclusion
            groups (camera ids; scene ids for MSVR310); None removes nothing.
        max_rank (int): CMC length.

    Returns:
        dict: ``cmc`` (max_rank,), ``mAP``, ``mINP`` (fractions) and
        ``num_valid_queries`` (queries with a positive left), as
        :func:`~.ranking.evaluate_rank`.
    """
    cmc = np.zeros(max_rank)
    aps, inps = [], []
    for i in range(distmat.shape[0]):
        order = np.argsort(distmat[i], kind='stable')
        keep = np.ones(len(order), dtype=bool)
        if q_groups is not None:
            keep = ~((g_pids[order] == q_pids[i]) &
                     (g_groups[order] == q_groups[i]))
        matches = g_pids[order][keep] == q_pids[i]
        if not matches.any():
            continue  # no positive left: the query is skipped
        ranks = np.flatnonzero(matches) + 1  # 1-based ranks of positives
        cmc[ranks[0] - 1:] += 1
        aps.append(np.mean(np.arange(1, len(ranks) + 1) / ranks))
        inps.append(len(ranks) / ranks[-1])
    if not aps:
        raise ValueError('no query has a positive gallery item left')
    return dict(cmc=cmc / len(aps), mAP=float(np.mean(aps)),
                mINP=float(np.mean(inps)), num_valid_queries=len(aps))
