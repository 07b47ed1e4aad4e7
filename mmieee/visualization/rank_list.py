# Copyright (c) mmieee contributors.
"""Rank-list pictures of chosen queries, written as PNG files plus an HTML
index: what ``tools/visualization/vis_rank_list.py`` and
:class:`~mmieee.engine.hooks.ReIDVisualizationHook` (``tools/test.py
--show-dir``) write.
"""
import html
import os.path as osp
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import mmcv
import mmengine
import numpy as np
from mmengine.utils import ProgressBar

from .reid_visualizer import ReIDVisualizer

ImageLoader = Callable[[int], List[np.ndarray]]


def _ids(features: Mapping, row: int) -> str:
    text = f'id {int(features["pids"][row])}'
    if 'camids' in features:
        text += f', camid {int(features["camids"][row])}'
    if 'sceneids' in features:
        text += f', scene {int(features["sceneids"][row])}'
    return text


def rank_list_title(features: Mapping, ranked: Mapping,
                    position: int) -> str:
    """Title of query ``position``: ids, AP, first-match rank, skipped.

    Args:
        features (Mapping): The feature set.
        ranked (Mapping): Output of :func:`~.ranked_queries.rank_queries`.
        position (int): Index into ``ranked['query_rows']``.

    Returns:
        str: Two lines of text.
    """
    row = int(ranked['query_rows'][position])
    head = f'query {row}: {_ids(features, row)}'
    if ranked['valid'][position]:
        stats = (f'AP {100 * float(ranked["ap"][position]):.1f}%, first '
                 f'match at rank {int(ranked["first_rank"][position])}')
    else:
        stats = 'AP n/a: no match left in the gallery'
    skipped = int(ranked['num_excluded'][position])
    return (f'{head} | {stats}\n{skipped} gallery item(s) with the same id '
            'and camera/scene skipped, as by the metric')


def draw_ranked_query(visualizer: ReIDVisualizer, features: Mapping,
                      ranked: Mapping, position: int,
                      load_images: ImageLoader,
                      modalities: Sequence[str]) -> np.ndarray:
    """Draw the rank list of query ``position``.

    Args:
        visualizer (ReIDVisualizer): Draws the picture.
        features (Mapping): The feature set (ids per row).
        ranked (Mapping): Output of :func:`~.ranked_queries.rank_queries`.
        position (int): Index into ``ranked['query_rows']``.
        load_images (Callable[[int], list]): Feature row -> its M images.
        modalities (Sequence[str]): Names of the M modalities.

    Returns:
        np.ndarray: The canvas, (H, W, 3) uint8 RGB.
    """
    row = int(ranked['query_rows'][position])
    kept = ranked['indices'][position] >= 0
    items = ranked['indices'][position][kept]
    return visualizer.draw_rank_list(
        load_images(row), [load_images(int(g)) for g in items],
        [float(d) for d in ranked['distances'][position][kept]],
        [bool(m) for m in ranked['matches'][position][kept]],
        modalities=modalities,
        title=rank_list_title(features, ranked, position),
        query_caption=_ids(features, row),
        gallery_captions=[_ids(features, int(g)) for g in items])


def write_rank_lists(visualizer: ReIDVisualizer,
                     features: Mapping,
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
        features (Mapping): The feature set.
        ranked (Mapping): Output of :func:`~.ranked_queries.rank_queries`.
        positions (Sequence[int]): Queries to draw, in order (e.g. from
            :func:`~.ranked_queries.select_queries`).
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
        canvas = draw_ranked_query(visualizer, features, ranked, pos,
                                   load_images, modalities)
        q_row = int(ranked['query_rows'][pos])
        pid = int(features['pids'][q_row])
        name = f'{order:03d}_query{q_row:05d}_id{pid}'
        path = None
        if out_dir:
            path = osp.join(out_dir, f'{name}.png')
            mmcv.imwrite(canvas[..., ::-1], path)
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
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
