# Copyright (c) mmieee contributors.
"""k-reciprocal re-ranking against a dense, loop-based implementation of the
paper's formulas (Zhong et al., CVPR 2017, Eq. 4-13) written here."""
import numpy as np
import pytest
import torch

from mmieee.evaluation.functional import compute_distance, re_ranking
from mmieee.evaluation.functional.re_ranking import KReciprocalReRanking


def dense_reference(q, g, k1, k2, lam, metric='euclidean'):
    feats = torch.cat([q, g])
    n, nq = feats.shape[0], q.shape[0]
    d = compute_distance(feats, feats, metric).numpy().astype(np.float32)
    d = d * d
    d = d / d.max(axis=1, keepdims=True)
    rank = np.argsort(d, axis=1, kind='stable')

    def recip(i, k):
        fwd = rank[i, :k + 1]
        return [j for j in fwd if i in rank[j, :k + 1]]

    kh = int(np.around(k1 / 2.))
    V = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        r = recip(i, k1)
        expanded = list(r)
        for c in r:
            rc = recip(c, kh)
            common = len(set(rc) & set(r))
            if common > 2. / 3 * len(rc):
                expanded += rc
        expanded = np.unique(expanded)
        w = np.exp(-d[i, expanded])
        V[i, expanded] = w / w.sum()
    if k2 > 1:
        V = np.stack([V[rank[i, :k2]].mean(axis=0) for i in range(n)])
    jac = np.zeros((nq, n))
    for i in range(nq):
        for j in range(n):
            s = np.minimum(V[i], V[j]).astype(np.float64).sum()
            jac[i, j] = 1 - s / (2 - s)
    final = jac * (1 - lam) + d[:nq] * lam
    return final[:, nq:]


def _clustered(num, dim, ids, seed):
    gen = torch.Generator().manual_seed(seed)
    centers = torch.randn(ids, dim, generator=gen)
    labels = torch.randint(0, ids, (num, ), generator=gen)
    return centers[labels] + 0.7 * torch.randn(num, dim, generator=gen)


@pytest.mark.parametrize('k1,k2,lam,metric', [(6, 3, 0.3, 'euclidean'),
                                              (5, 1, 0.5, 'cosine'),
                                              (7, 4, 0.0, 'euclidean')])
def test_matches_dense_reference(k1, k2, lam, metric):
    q, g = _clustered(12, 8, 5, 0), _clustered(40, 8, 5, 1)
    ours = re_ranking(q, g, metric, k1=k1, k2=k2, lambda_value=lam)
    ref = dense_reference(q, g, k1, k2, lam, metric)
    assert ours.shape == (12, 40)
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-5, atol=1e-6)


def test_chunking_and_repeats_are_bitwise_identical():
    q, g = _clustered(15, 8, 6, 2), _clustered(50, 8, 6, 3)
    a = re_ranking(q, g, k1=8, k2=4, chunk_size=7)
    b = re_ranking(q, g, k1=8, k2=4, chunk_size=7)
    c = re_ranking(q, g, k1=8, k2=4, chunk_size=1000)
    rr = KReciprocalReRanking(q, g, k1=8, k2=4, chunk_size=5)
    d = torch.cat([rr.rows(0, 4), rr.rows(4, 15)])
    assert torch.equal(a, b) and torch.equal(a, c) and torch.equal(a, d)


def test_lambda_one_keeps_original_order_and_errors():
    q, g = _clustered(6, 4, 3, 4), _clustered(20, 4, 3, 5)
    out = re_ranking(q, g, k1=4, k2=2, lambda_value=1.0)
    base = compute_distance(q, g).double()**2
    feats = torch.cat([q, g])
    rowmax = (compute_distance(feats, feats).double()**2).max(1).values[:6]
    np.testing.assert_allclose(
        out.numpy(), (base / rowmax[:, None]).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match='k2 <= k1 \\+ 1'):
        re_ranking(q, g, k1=3, k2=5)
    with pytest.raises(ValueError, match='lambda_value'):
        re_ranking(q, g, k1=3, k2=2, lambda_value=2)
