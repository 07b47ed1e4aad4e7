# Copyright (c) mmieee contributors.
"""Rank-list pictures: what ``tools/visualization/vis_rank_list.py``,
``tools/test.py --show-dir`` (:class:`~mmieee.engine.ReIDVisualizationHook`)
and the inferencer (``demo/retrieval_demo.py --out``) draw.

The ranking is never computed here: :func:`rank_rows` calls
:meth:`mmieee.evaluation.RankingProtocol.rank` (the metric's own ranking,
with its per-query AP) and only maps its query / gallery positions back to
the rows of the feature set, so rank 1 in a picture is rank 1 in
``reid/R1``. :func:`draw_ranked_query` is the one drawing of a query and its
ranked items (ids, camera and AP in the captions and the title), PNGs and an
``index.html`` are written by :func:`write_rank_lists`.
"""
import html
import os.path as osp
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import mmengine
import numpy as np
from mmengine.utils import ProgressBar
from mmengine.visualization import Visualizer

from mmieee.evaluation import FeatureSet, RankingProtocol
from mmieee.utils.output_paths import write_rgb_image, writing

from .reid_visualizer import ReIDVisualizer

ImageLoader = Callable[[int], List[np.ndarray]]

#: Query orders of :func:`select_queries`.
ORDERS = ('worst', 'best', 'random')


def rank_rows(features: FeatureSet, protocol: RankingProtocol,
              topk: int = 10) -> Dict[str, np.ndarray]:
    """The metric's ranking of every query of a feature set, in its rows.

    Args:
        features (FeatureSet): With ``pids``, ``is_query``, ``is_gallery``
            and the protocol's exclusion ids (``camids`` / ``sceneids``).
        protocol (RankingProtocol): E.g. ``ReIDMetric(...).protocol`` or
            ``RankingProtocol.from_config(cfg)``.
        topk (int): Gallery items kept per query.

    Returns:
        dict: With Q queries: ``query_rows`` (Q,) and ``gallery_rows`` (G,)
        (rows of ``features``); ``indices`` (Q, topk) rows of the ranked
        gallery items, -1 padding; ``distances`` (Q, topk), NaN padding;
        ``matches`` (Q, topk) bool (same pid); ``ap``, ``inp`` (Q,),
        ``first_rank`` (Q,), ``valid`` (Q,) (a positive is left),
        ``num_excluded`` (Q,).
    """
    features.require('pids', 'is_query', 'is_gallery')
    query, gallery = features.query_gallery()
    ranked = protocol.rank(query, gallery, topk=topk, evaluate=True,
                           per_query=True)
    q_rows = np.flatnonzero(features.is_query)
    g_rows = np.flatnonzero(features.is_gallery)
    cols = ranked['indices']
    indices = np.where(cols >= 0, g_rows[np.maximum(cols, 0)], -1)
    matches = (cols >= 0) & (features.pids[np.maximum(indices, 0)] ==
                             features.pids[q_rows][:, None])
    return dict(
        query_rows=q_rows,
        gallery_rows=g_rows,
        indices=indices,
        distances=ranked['distances'],
        matches=matches,
        ap=ranked['ap'],
        inp=ranked['inp'],
        first_rank=ranked['first_rank'],
        valid=ranked['valid'],
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
        ranked (Mapping): Output of :func:`rank_rows`.
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


def ids_text(ids: Mapping[str, Optional[int]]) -> str:
    """``'id 45, camid 0, scene 3'`` from the known ids of a sample."""
    parts = []
    for key, label in (('pid', 'id'), ('camid', 'camid'),
                       ('sceneid', 'scene')):
        if ids.get(key) is not None:
            parts.append(f'{label} {int(ids[key])}')
    return ', '.join(parts) or 'ids unknown'


def row_ids(features: FeatureSet, row: int) -> Dict[str, Optional[int]]:
    """The known ids of one row of a feature set."""
    return {
        key[:-1]: None if getattr(features, key) is None else int(
            getattr(features, key)[row])
        for key in ('pids', 'camids', 'sceneids')
    }


def rank_list_title(name: str, ids: Mapping, stats: Optional[Tuple[
        bool, float, int]], num_excluded: int) -> str:
    """Two lines: the query's name and ids (and AP / first-match rank when
    the gallery's ids are known), then how many items the protocol skipped.

    Args:
        name (str): E.g. ``'query 12'`` or a file name.
        ids (Mapping): The query's ``pid`` / ``camid`` / ``sceneid``.
        stats (tuple, optional): ``(valid, ap, first_rank)`` of the query.
        num_excluded (int): Gallery items removed by the protocol.
    """
    head = f'{name}: {ids_text(ids)}'
    if stats is not None:
        valid, ap, first = stats
        head += (f' | AP {100 * float(ap):.1f}%, first match at rank '
                 f'{int(first)}' if valid else
                 ' | AP n/a: no match left in the gallery')
    return (f'{head}\n{int(num_excluded)} gallery item(s) with the same id '
            'and camera/scene skipped, as by the metric')


def draw_ranked_query(visualizer: ReIDVisualizer,
                      query_images: Sequence[np.ndarray],
                      gallery_images: Sequence[Sequence[np.ndarray]],
                      query_ids: Mapping,
                      gallery_ids: Sequence[Mapping],
                      distances: Sequence[float],
                      matches: Sequence[Optional[bool]],
                      modalities: Sequence[str],
                      title: str) -> np.ndarray:
    """Draw one query and its ranked gallery items (ids under each).

    Returns:
        np.ndarray: The canvas, (H, W, 3) uint8 RGB.
    """
    return visualizer.draw_rank_list(
        query_images, gallery_images, [float(d) for d in distances],
        list(matches), modalities=modalities, title=title,
        query_caption=ids_text(query_ids),
        gallery_captions=[ids_text(ids) for ids in gallery_ids])


def draw_ranked_row(visualizer: ReIDVisualizer, features: FeatureSet,
                    ranked: Mapping, position: int, load_images: ImageLoader,
                    modalities: Sequence[str]) -> np.ndarray:
    """:func:`draw_ranked_query` of query ``position`` of :func:`rank_rows`.

    Args:
        load_images (Callable[[int], list]): Feature row -> its M images.
    """
    row = int(ranked['query_rows'][position])
    kept = ranked['indices'][position] >= 0
    items = [int(g) for g in ranked['indices'][position][kept]]
    stats = (bool(ranked['valid'][position]), ranked['ap'][position],
             ranked['first_rank'][position])
    return draw_ranked_query(
        visualizer, load_images(row), [load_images(g) for g in items],
        row_ids(features, row), [row_ids(features, g) for g in items],
        ranked['distances'][position][kept],
        ranked['matches'][position][kept], modalities,
        rank_list_title(f'query {row}', row_ids(features, row), stats,
                        ranked['num_excluded'][position]))


def pick_visualizer(name: str) -> Tuple[ReIDVisualizer, bool]:
    """The current ReIDVisualizer (a runner's), else one of ``name``.

    Returns:
        tuple: The visualizer and whether it is the current instance (only
        then are pictures also sent to its vis backends).
    """
    current = Visualizer.get_current_instance() \
        if Visualizer._instance_dict else None
    if isinstance(current, ReIDVisualizer):
        return current, True
    return ReIDVisualizer.get_instance(name), False


def write_rank_lists(visualizer: ReIDVisualizer,
                     features: FeatureSet,
                     ranked: Mapping,
                     positions: Sequence[int],
                     load_images: ImageLoader,
                     modalities: Sequence[str],
                     out_dir: Optional[str] = None,
                     add_to_backends: bool = False,
                     step: int = 0,
                     progress: bool = True) -> List[Dict]:
    """Draw the chosen queries; write PNGs and ``index.html`` to ``out_dir``.

    Args:
        visualizer (ReIDVisualizer): Draws the pictures.
        features (FeatureSet): The feature set.
        ranked (Mapping): Output of :func:`rank_rows`.
        positions (Sequence[int]): Queries to draw, in order (e.g. from
            :func:`select_queries`).
        load_images (Callable[[int], list]): Feature row -> its M images.
        modalities (Sequence[str]): Names of the M modalities.
        out_dir (str, optional): Folder of the PNGs and the index.
        add_to_backends (bool): Also send each picture to the visualizer's
            vis backends (``add_image``).
        step (int): Step of ``add_image``.
        progress (bool): Show a progress bar.

    Returns:
        list[dict]: Per picture: ``name``, ``query_row``, ``pid``, ``ap``
        (None when undefined), ``first_rank``, ``file`` (or None).
    """
    if out_dir:
        mmengine.mkdir_or_exist(out_dir)
    bar = ProgressBar(len(positions)) if progress and positions else None
    rows = []
    for order, pos in enumerate(positions):
        canvas = draw_ranked_row(visualizer, features, ranked, pos,
                                 load_images, modalities)
        q_row = int(ranked['query_rows'][pos])
        pid = int(features.pids[q_row])
        name = f'{order:03d}_query{q_row:05d}_id{pid}'
        path = None
        if out_dir:
            path = osp.join(out_dir, f'{name}.png')
            write_rgb_image(path, canvas)
        if add_to_backends:
            visualizer.add_image(name, canvas, step=step)
        valid = bool(ranked['valid'][pos])
        rows.append(
            dict(
                name=name,
                query_row=q_row,
                pid=pid,
                ap=float(ranked['ap'][pos]) if valid else None,
                first_rank=int(ranked['first_rank'][pos]) if valid else None,
                file=path))
        if bar is not None:
            bar.update()
    if bar is not None:
        print()
    if out_dir:
        write_index(rows, osp.join(out_dir, 'index.html'))
    return rows


def write_index(rows: Sequence[Mapping], path: str) -> None:
    """An HTML page listing the pictures with their query's numbers.

    Args:
        rows (Sequence[Mapping]): Output of :func:`write_rank_lists`.
        path (str): The ``.html`` file.
    """
    lines = [
        '<!DOCTYPE html>', '<html><head><meta charset="utf-8">',
        '<title>Rank lists</title>',
        '<style>body{font-family:sans-serif} td{padding:4px 8px;'
        'vertical-align:middle} img{max-height:200px}</style>',
        '</head><body>', '<h1>Rank lists</h1>',
        '<table><tr><th>#</th><th>query row</th><th>id</th><th>AP</th>'
        '<th>first match</th><th>rank list</th></tr>'
    ]
    for i, r in enumerate(rows):
        ap = 'n/a' if r['ap'] is None else f'{100 * r["ap"]:.1f}%'
        first = 'n/a' if r['first_rank'] is None else str(r['first_rank'])
        img = html.escape(osp.basename(r['file'] or ''))
        lines.append(
            f'<tr><td>{i}</td><td>{r["query_row"]}</td><td>{r["pid"]}</td>'
            f'<td>{ap}</td><td>{first}</td><td><a href="{img}">'
            f'<img src="{img}" alt="{html.escape(r["name"])}"></a></td>'
            '</tr>')
    lines += ['</table>', '</body></html>']
    with writing(path), open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
