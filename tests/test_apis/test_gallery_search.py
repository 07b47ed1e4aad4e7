# Copyright (c) mmieee contributors.
"""Both search backends refuse non-finite features, naming the row (the
faiss backend returned no match for a NaN query and dropped a NaN
gallery row)."""
import numpy as np
import pytest

from mmieee.apis import build_search
from mmieee.evaluation import FeatureSet, RankingProtocol


def _features(num, bad_row=None, value=np.nan, source='gallery.npz'):
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(num, 8)).astype(np.float32)
    if bad_row is not None:
        feats[bad_row, 3] = value
    return FeatureSet(feats=feats, pids=np.arange(num) % 3,
                      camids=np.arange(num) % 2, source=source)


@pytest.mark.parametrize('backend', ['exact', 'faiss'])
@pytest.mark.parametrize('value', [np.nan, np.inf])
def test_non_finite_query_or_gallery_row_is_refused(backend, value):
    if backend == 'faiss':
        pytest.importorskip('faiss', reason='pip install -e .[deploy]')
    protocol = RankingProtocol(metric='euclidean')
    search = build_search(protocol, backend)
    with pytest.raises(ValueError, match=r'1 of 6 gallery features of '
                       r'gallery.npz are NaN or infinite \(the first is '
                       r'gallery row 4\)'):
        search.set_gallery(_features(6, bad_row=4, value=value))
        search.search(_features(2, source='queries'), topk=3)
    search = build_search(protocol, backend)
    search.set_gallery(_features(6))
    with pytest.raises(ValueError, match=r'1 of 2 query features of '
                       r'queries are NaN or infinite \(the first is query '
                       r'row 1\)'):
        search.search(_features(2, bad_row=1, value=value,
                                source='queries'), topk=3)
