# Copyright (c) mmieee contributors.
"""t-SNE points, embedding and plot (paper Fig. 7)."""
import numpy as np
import pytest
from matplotlib.markers import MarkerStyle

import mmieee  # noqa: F401
from mmieee.visualization import (MARKERS, plot_tsne, tsne_embedding,
                                  tsne_points)

M, P, C = 3, 2, 4


def _features(num_ids=5, per_id=3, seed=0):
    rng = np.random.default_rng(seed)
    pids = np.repeat(np.arange(10, 10 + num_ids), per_id)
    # Each modality slice holds its modality index, so slices are checkable.
    feats = rng.normal(size=(len(pids), M, P * C)).astype(np.float32)
    feats += np.arange(M, dtype=np.float32)[None, :, None] * 100
    return feats.reshape(len(pids), M * P * C), pids


def test_modality_level_gives_m_points_per_sample():
    feats, pids = _features()
    pts = tsne_points(feats, pids, M, 'modality', num_ids=3, seed=1)
    chosen = np.unique(pts['pids'])
    assert len(chosen) == 3
    n = int(np.isin(pids, chosen).sum())
    assert pts['points'].shape == (n * M, P * C)
    assert pts['modality'].tolist() == [0, 1, 2] * n
    for point, m, row in zip(pts['points'], pts['modality'], pts['sample']):
        np.testing.assert_array_equal(
            point, feats[row, m * P * C:(m + 1) * P * C])
    np.testing.assert_array_equal(pts['pids'], pids[pts['sample']])
    # The id draw depends on the seed only.
    again = tsne_points(feats, pids, M, 'modality', num_ids=3, seed=1)
    np.testing.assert_array_equal(again['sample'], pts['sample'])


def test_fused_level_and_errors():
    feats, pids = _features()
    pts = tsne_points(feats, pids, M, 'fused', num_ids=None)
    assert pts['points'].shape == feats.shape
    assert (pts['modality'] == -1).all()
    with pytest.raises(ValueError, match='not a multiple of the number of '
                       'modalities 5'):
        tsne_points(feats, pids, 5)
    with pytest.raises(ValueError, match='level must be one of'):
        tsne_points(feats, pids, M, 'part')
    # a feature that is not M slices (DeMo's [ori ; moe]): fused works, the
    # modality level says what to do instead
    odd = np.concatenate([feats, feats[:, :1]], axis=1)
    assert tsne_points(odd, pids, M, 'fused')['points'].shape == odd.shape
    with pytest.raises(ValueError, match='Use --level fused'):
        tsne_points(odd, pids, M, 'modality')


def test_embedding_is_deterministic_for_a_seed():
    feats, pids = _features(num_ids=4, per_id=3)
    pts = tsne_points(feats, pids, M)
    a = tsne_embedding(pts['points'], seed=0)
    b = tsne_embedding(pts['points'], seed=0)
    assert a.shape == (len(pids) * M, 2)
    np.testing.assert_array_equal(a, b)
    # The modalities are 100 apart: each forms its own cluster.
    centres = np.stack([a[pts['modality'] == m].mean(0) for m in range(M)])
    spread = max(a[pts['modality'] == m].std(0).max() for m in range(M))
    gaps = [np.linalg.norm(centres[i] - centres[j]) for i in range(M)
            for j in range(i + 1, M)]
    assert min(gaps) > 2 * spread


def test_markers_follow_modalities_and_colours_identities():
    feats, pids = _features(num_ids=2, per_id=2)
    pts = tsne_points(feats, pids, M)
    emb = np.arange(len(pts['points']) * 2, dtype=np.float32).reshape(-1, 2)
    fig = plot_tsne(emb, pts['pids'], pts['modality'], ('RGB', 'NI', 'TI'))
    ax = fig.axes[0]
    assert len(ax.collections) == M
    for m, coll in enumerate(ax.collections):
        assert coll.get_label() == ('RGB', 'NI', 'TI')[m]
        np.testing.assert_array_equal(coll.get_offsets(),
                                      emb[pts['modality'] == m])
        style = MarkerStyle(MARKERS[m])
        ref = style.get_path().transformed(style.get_transform()).vertices
        np.testing.assert_allclose(coll.get_paths()[0].vertices, ref)
        # One colour per identity.
        faces = coll.get_facecolors()
        ids = pts['pids'][pts['modality'] == m]
        for pid in np.unique(ids):
            assert len({tuple(c) for c in faces[ids == pid]}) == 1
        assert len({tuple(c) for c in faces}) == len(np.unique(ids))
