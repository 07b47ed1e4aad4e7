# Copyright (c) mmieee contributors.
"""t-SNE of Re-ID features, as the paper's Fig. 7.

The test feature of a sample is the flattened (M, P, C) tensor of its part
embeddings (paper § "Multi-modal Margin loss": M modality-specific
representations of P parts of C channels). At ``level='modality'`` each
sample gives M points, the m-th P*C slice being modality m's
representation: colour = identity, marker = modality, so one sees whether
the modalities of one identity gather (what the 3M loss, Eq. 6, pulls
together). At ``level='fused'`` each sample is one point, the whole
feature, the vector the metric ranks with.

The embedding is scikit-learn's :class:`~sklearn.manifold.TSNE` (PCA
initialisation, deterministic for a seed).
"""
from typing import Dict, Optional, Sequence

import numpy as np

from mmieee.utils.optional_packages import require_package

#: Matplotlib markers of modalities 0, 1, 2, ...
MARKERS = ('o', '^', 's', 'D', 'v', 'P', 'X', '*')
LEVELS = ('modality', 'fused')
#: Identities listed in the legend (all are plotted).
MAX_LEGEND_IDS = 20


def tsne_points(feats: np.ndarray,
                pids: np.ndarray,
                num_modalities: int,
                level: str = 'modality',
                num_ids: Optional[int] = 10,
                seed: int = 0,
                normalize: bool = False) -> Dict[str, np.ndarray]:
    """The points to embed: the samples of ``num_ids`` identities.

    Args:
        feats (np.ndarray): (N, D) features, D = M * P * C.
        pids (np.ndarray): (N,) identities.
        num_modalities (int): M.
        level (str): ``'modality'`` (M points per sample) or ``'fused'``.
        num_ids (int, optional): Identities drawn (seeded) from those in
            ``pids``; None or more than there are: all.
        seed (int): Seed of the identity draw.
        normalize (bool): L2-normalise every point (for cosine metrics).

    Returns:
        dict: ``points`` (n, d), ``pids`` (n,), ``modality`` (n,) index of
        each point's modality (-1 at ``'fused'`` level), ``sample`` (n,) row
        of each point in ``feats``. At ``'modality'`` level n = N' * M for
        the N' samples of the chosen identities, sample-major.
    """
    if level not in LEVELS:
        raise ValueError(f'level must be one of {LEVELS}, got {level!r}')
    feats = np.asarray(feats, dtype=np.float32)
    pids = np.asarray(pids).astype(np.int64)
    if feats.ndim != 2 or pids.shape != (len(feats), ):
        raise ValueError(f'feats must be (N, D) and pids (N,), got '
                         f'{feats.shape} and {pids.shape}')
    dim = feats.shape[1]
    if num_modalities < 1:
        raise ValueError(f'num_modalities must be >= 1, got {num_modalities}')
    if level == 'modality' and dim % num_modalities:
        raise ValueError(
            f'the feature length {dim} is not a multiple of the number of '
            f'modalities {num_modalities} (model.modalities), so it is not '
            'one slice per modality (e.g. DeMo\'s [ori ; moe] feature, whose '
            'moe part mixes the modalities), or it comes from another '
            'model. Use --level fused, or for DeMo the per-modality '
            'features alone: --cfg-options "model.head.test_feature=[ori]"')
    ids = np.unique(pids)
    if num_ids is not None and int(num_ids) < 1:
        raise ValueError(f'num_ids must be >= 1, got {num_ids}')
    if num_ids is not None and int(num_ids) < len(ids):
        ids = np.sort(
            np.random.default_rng(seed).choice(ids, int(num_ids), False))
    rows = np.flatnonzero(np.isin(pids, ids))
    if level == 'fused':
        points = feats[rows]
        modality = np.full(len(rows), -1, np.int64)
        sample = rows
    else:
        m = num_modalities
        points = feats[rows].reshape(len(rows) * m, dim // m)
        modality = np.tile(np.arange(m), len(rows))
        sample = np.repeat(rows, m)
    if normalize:
        points = points / np.maximum(
            np.linalg.norm(points, axis=1, keepdims=True), 1e-12)
    return dict(
        points=points, pids=pids[sample], modality=modality, sample=sample)


def tsne_embedding(points: np.ndarray,
                   seed: int = 0,
                   perplexity: Optional[float] = None) -> np.ndarray:
    """2-D t-SNE embedding of ``points``.

    Args:
        points (np.ndarray): (n, d), n >= 3.
        seed (int): ``random_state`` of the embedding.
        perplexity (float, optional): Default ``min(30, (n - 1) / 3)``
            (scikit-learn needs it below n).

    Returns:
        np.ndarray: (n, 2) float32.
    """
    require_package('sklearn')
    from sklearn.manifold import TSNE
    n = len(points)
    if n < 3:
        raise ValueError(f't-SNE needs at least 3 points, got {n}')
    if perplexity is None:
        perplexity = min(30.0, (n - 1) / 3)
    tsne = TSNE(
        n_components=2, perplexity=perplexity, init='pca',
        learning_rate='auto', random_state=seed)
    return tsne.fit_transform(np.asarray(points, np.float32)).astype(
        np.float32)


def plot_tsne(embedding: np.ndarray,
              pids: np.ndarray,
              modality: np.ndarray,
              modalities: Sequence[str],
              title: str = ''):
    """Scatter plot: colour = identity, marker = modality.

    One scatter collection per modality (label = its name, marker
    ``MARKERS[m]``), or a single one at fused level (``modality`` all -1).

    Args:
        embedding (np.ndarray): (n, 2).
        pids (np.ndarray): (n,) identities.
        modality (np.ndarray): (n,) modality index, -1 for fused points.
        modalities (Sequence[str]): Names of the modalities.
        title (str): Figure title.

    Returns:
        matplotlib.figure.Figure: The figure (not shown).
    """
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    if len(modalities) > len(MARKERS):
        raise ValueError(f'at most {len(MARKERS)} modalities can be told '
                         f'apart by marker, got {len(modalities)}')
    ids = np.unique(pids)
    cmap_name = 'tab10' if len(ids) <= 10 else 'tab20'
    fig = Figure(figsize=(6.4, 5.6), dpi=100)
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps[cmap_name]
    colors = {pid: cmap(i % cmap.N) for i, pid in enumerate(ids)}
    point_colors = np.array([colors[p] for p in pids])
    groups = sorted(set(np.asarray(modality).tolist()))
    for m in groups:
        sel = modality == m
        ax.scatter(
            embedding[sel, 0],
            embedding[sel, 1],
            c=point_colors[sel],
            marker=MARKERS[max(m, 0)],
            s=28,
            linewidths=0.3,
            edgecolors='black',
            label=modalities[m] if m >= 0 else 'sample')
    # Modality markers in the legend are hollow black: no identity colour.
    handles = [
        Line2D([], [], color='black', markerfacecolor='white',
               marker=MARKERS[m], linestyle='', label=modalities[m])
        for m in groups if m >= 0
    ]
    handles += [
        Line2D([], [], color=colors[p], marker='o', linestyle='',
               label=f'id {p}') for p in ids[:MAX_LEGEND_IDS]
    ]
    if len(ids) > MAX_LEGEND_IDS:
        handles.append(
            Line2D([], [], linestyle='',
                   label=f'... {len(ids)} ids in all'))
    ax.legend(
        handles=handles, loc='center left', bbox_to_anchor=(1.0, 0.5),
        fontsize=8, frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
