# Copyright (c) mmieee contributors.
"""ReIDVisualizer: what the pictures hold, read back from their pixels."""
import numpy as np
import pytest

import mmieee  # noqa: F401
from mmieee.registry import VISUALIZERS
from mmieee.visualization import ReIDVisualizer
from mmieee.visualization.reid_visualizer import MAX_CELL_ASPECT

V = ReIDVisualizer
FRAME_COLORS = {
    V.QUERY_COLOR: 'query',
    V.MATCH_COLOR: 'match',
    V.MISMATCH_COLOR: 'wrong',
    V.UNKNOWN_COLOR: 'unknown',
}


def _solid(color, shape=(40, 20)):
    return np.full(shape + (3, ), color, np.uint8)


def _runs(line):
    """Left-to-right runs of frame-coloured pixels: [(name, x0, x1)]."""
    runs = []
    for x, px in enumerate(map(tuple, line)):
        name = FRAME_COLORS.get(px)
        if runs and runs[-1][0] == name and runs[-1][2] == x:
            runs[-1][2] = x + 1
        elif name is not None:
            runs.append([name, x, x + 1])
    return runs


def _columns(canvas, y):
    """Frame colour of each column block along row ``y``: a block is a
    left frame run, then the cell, then the right frame run."""
    runs = _runs(canvas[y])
    assert len(runs) % 2 == 0, runs
    cols = []
    for left, right in zip(runs[::2], runs[1::2]):
        assert left[0] == right[0], (left, right)
        cols.append((left[0], left[2], right[1]))  # name, cell x0, x1
    return cols


@pytest.fixture(scope='module')
def vis():
    return ReIDVisualizer.get_instance('test_reid_visualizer', cell_height=40,
                                       frame_width=3)


def test_registered_and_built_by_name():
    built = VISUALIZERS.build(
        dict(type='ReIDVisualizer', name='test_reid_vis_built'))
    assert isinstance(built, ReIDVisualizer)


def test_rank_list_frames_follow_the_matches(vis):
    """A correct match at rank 2 is green at column 3 (query = column 1);
    every modality row shows the item's own image at its rank."""
    mods = ('RGB', 'NI', 'TI')
    # Item i, modality m: a uniform colour unique to (i, m).
    query = [_solid((10 + m, 20, 30)) for m in range(3)]
    gallery = [[_solid((100 + 10 * i, 5 + m, 77)) for m in range(3)]
               for i in range(3)]
    canvas = vis.draw_rank_list(
        query, gallery, [0.5, 1.25, 2.0], [False, True, None],
        modalities=mods, title='query 0: id 1 | AP 50.0%')
    assert canvas.dtype == np.uint8 and canvas.ndim == 3
    np.testing.assert_array_equal(canvas, vis.get_image())

    # Row centres: scan down the middle of the query cell.
    rows = []
    for m in range(3):
        ys = np.flatnonzero((canvas == query[m][0, 0]).all(-1).any(1))
        rows.append((ys.min() + ys.max()) // 2)
    for m, y in enumerate(rows):
        cols = _columns(canvas, y)
        assert [c[0] for c in cols] == ['query', 'wrong', 'match', 'unknown']
        # Column 3 (rank 2) is the correct match and shows item 1.
        name, x0, x1 = cols[2]
        assert name == 'match'
        np.testing.assert_array_equal(canvas[y, (x0 + x1) // 2],
                                      gallery[1][m][0, 0])
        for rank, (_, x0, x1) in enumerate(cols[1:]):
            np.testing.assert_array_equal(canvas[y, (x0 + x1) // 2],
                                          gallery[rank][m][0, 0])


def test_rank_list_works_for_any_number_of_modalities(vis):
    canvas = vis.draw_rank_list([_solid((1, 2, 3))],
                                [[_solid((9, 9, 9))]] * 2, [1.0, 2.0],
                                [True, True], modalities=('TI', ))
    ys = np.flatnonzero((canvas == (1, 2, 3)).all(-1).any(1))
    cols = _columns(canvas, (ys.min() + ys.max()) // 2)
    assert [c[0] for c in cols] == ['query', 'match', 'match']
    # Unknown identities: neutral frames.
    canvas = vis.draw_rank_list([_solid((1, 2, 3))] * 2,
                                [[_solid((9, 9, 9))] * 2], [1.0],
                                modalities=('RGB', 'TI'))
    ys = np.flatnonzero((canvas == (1, 2, 3)).all(-1).any(1))
    cols = _columns(canvas, ys.min() + 2)
    assert [c[0] for c in cols] == ['query', 'unknown']


def test_rank_list_refuses_inconsistent_input(vis):
    q = [_solid((0, 0, 0))] * 3
    with pytest.raises(ValueError, match=r'gallery item 1 \(rank 2\) has 2'):
        vis.draw_rank_list(q, [q, q[:2]], [1, 2])
    with pytest.raises(ValueError, match='2 query images for 3 modalities'):
        vis.draw_rank_list(q[:2], [q], [1])
    with pytest.raises(ValueError, match='1 distances for 2 gallery items'):
        vis.draw_rank_list(q, [q, q], [1])
    with pytest.raises(TypeError, match="got 'yes' at rank 1"):
        vis.draw_rank_list(q, [q], [1], ['yes'])
    with pytest.raises(ValueError, match=r'\(H, W, 3\) RGB image'):
        vis.draw_rank_list(q, [[np.zeros((4, 4, 2))] * 3], [1])


def test_activation_map_overlays_follow_the_map(vis):
    """The overlay of a map that is hot on the left is redder on the left
    (JET: high = red), one row per modality."""
    img = _solid((128, 128, 128), (40, 20))
    hot_left = np.zeros((4, 2), np.float32)
    hot_left[:, 0] = 1
    canvas = vis.draw_activation_maps([img, img], [('activation',
                                                    [hot_left, hot_left])],
                                      modalities=('RGB', 'NI'))
    # Find the overlay cell: the second non-grey, non-white block in the
    # middle of the first row.
    ys = np.flatnonzero((canvas == 128).all(-1).sum(1) >= 10)  # cells
    y = ys.min() + 10
    line = canvas[y].astype(int)
    grey = (line == 128).all(-1)
    coloured = ~grey & ~(line == 255).all(-1)
    # runs of coloured pixels: the overlay, then the colour scale
    edges = np.flatnonzero(np.diff(coloured.astype(int)))
    (x0, x1), (s0, s1) = edges[:4].reshape(2, 2) + [1, 0]
    left, right = line[x0 + 2], line[x1 - 2]
    assert left[0] > right[0] and left[2] < right[2]
    # the scale: red (high) at the top of the cell, blue (low) at the bottom
    column = canvas[:, (s0 + s1) // 2].astype(int)
    first_cell_end = ys[np.flatnonzero(np.diff(ys) > 1)[0]]
    top, bottom = column[ys.min() + 1], column[first_cell_end - 1]
    assert top[0] > top[2] and bottom[2] > bottom[0]


@pytest.mark.parametrize('shape', [(20, 3000), (3000, 20)])
def test_extreme_images_make_a_bounded_canvas(vis, shape):
    """One 20 x 3000 query image made a 7663 x 96057 canvas (the process
    was killed for memory); the cell's aspect ratio is now bounded."""
    image = np.zeros(shape + (3, ), np.uint8)
    gallery = [[np.zeros((40, 20, 3), np.uint8)] * 3] * 10
    canvas = vis.draw_rank_list([image] * 3, gallery, [0.1] * 10)
    height, width = canvas.shape[:2]
    aspect = shape[1] / shape[0]
    cell_w = min(max(aspect, 1 / MAX_CELL_ASPECT), MAX_CELL_ASPECT) * 40
    # 11 columns of at most 4:1 cells plus gaps, labels and frames
    assert width < 11 * (cell_w + 40) + 400
    assert height < 3 * 40 + 400
    assert width * height < 5e6
