# Copyright (c) mmieee contributors.
"""tools/test.py --show-dir and tools/visualization/vis_rank_list.py on the
tiny trained model: the pictures show the metric's ranking."""
import pickle
import re
import runpy
from pathlib import Path

import mmcv
import numpy as np
import pytest

import mmieee  # noqa: F401
from mmieee.visualization import ReIDVisualizer

REPO = Path(__file__).resolve().parents[2]


def tool_main(rel: str):
    """``main`` of a tool script, to call in-process (faster than a
    subprocess once the tiny model's checkpoint exists)."""
    return runpy.run_path(str(REPO / rel))['main']


@pytest.fixture(scope='module')
def tested(tools, tiny_config, trained_run, tmp_path_factory):
    """One tools/test.py run with --dump and --show-dir."""
    tmp = tmp_path_factory.mktemp('vis_rank_list')
    proc = tools.run([
        'tools/test.py', tiny_config,
        tools.best_checkpoint(trained_run), '--work-dir', tmp / 'w',
        '--dump', tmp / 'feats.pkl', '--show-dir', tmp / 'show',
        '--show-num', '3'
    ])
    return dict(dump=tmp / 'feats.pkl', show=tmp / 'show', log=proc.stdout)


def expected_ranking(d, query_row, topk):
    """Brute-force protocol: squared Euclidean distances, stable order,
    same id + same camera removed."""
    x = d['feats'].astype(np.float64)
    dist = ((x[query_row] - x)**2).sum(-1)
    keep = d['is_gallery'] & ~((d['pids'] == d['pids'][query_row]) &
                               (d['camids'] == d['camids'][query_row]))
    order = [i for i in np.argsort(dist, kind='stable') if keep[i]][:topk]
    return order, [bool(d['pids'][i] == d['pids'][query_row])
                   for i in order]


def frame_sequence(img):
    """Frame colours of the columns, left to right, along the middle of
    the first modality row."""
    names = {ReIDVisualizer.QUERY_COLOR: 'q', ReIDVisualizer.MATCH_COLOR: 'T',
             ReIDVisualizer.MISMATCH_COLOR: 'F'}
    is_query = (img == ReIDVisualizer.QUERY_COLOR).all(-1)
    ys = np.flatnonzero(is_query.any(1))
    # The query frame's top band, then 40 px into the first cell.
    y = ys.min() + 40
    seq, last = [], None
    for px in map(tuple, img[y]):
        name = names.get(px)
        if name != last and name is not None:
            seq.append(name)
        last = name
    return ''.join(seq[::2])  # left and right band of each frame


def test_show_dir_draws_the_worst_queries(tested):
    files = sorted(p.name for p in tested['show'].glob('*.png'))
    assert len(files) == 3 and files[0].startswith('000_query')
    assert (tested['show'] / 'index.html').read_text().count('<img ') == 3
    assert 'wrote 3 rank list(s) (worst AP first)' in tested['log']


def test_rank_list_from_dump_matches_a_brute_force_ranking(tested,
                                                           tiny_config,
                                                           tmp_path):
    main = tool_main('tools/visualization/vis_rank_list.py')
    out = tmp_path / 'rl'
    rows = main([
        str(tiny_config), '--dump', str(tested['dump']), '--out-dir',
        str(out), '--topk', '5', '--num-queries', '4', '--order', 'best'
    ])
    with open(tested['dump'], 'rb') as f:
        d = pickle.load(f)
    assert len(rows) == 4
    aps = [r['ap'] for r in rows]
    assert aps == sorted(aps, reverse=True)
    for r in rows:
        order, matches = expected_ranking(d, r['query_row'], 5)
        img = mmcv.imread(r['file'], channel_order='rgb')
        expected = 'q' + ''.join('T' if m else 'F' for m in matches)
        assert frame_sequence(img) == expected, r['file']
        assert re.fullmatch(rf'\d{{3}}_query{r["query_row"]:05d}_id'
                            rf'{d["pids"][r["query_row"]]}\.png',
                            Path(r['file']).name)
    # The same order of the same queries as the hook (worst first).
    rows = main([
        str(tiny_config), '--dump', str(tested['dump']), '--out-dir',
        str(tmp_path / 'worst'), '--num-queries', '3'
    ])
    hook_files = sorted(p.name for p in tested['show'].glob('*.png'))
    assert [Path(r['file']).name for r in rows] == hook_files


def test_dump_of_another_split_is_refused(tested, tiny_config, tmp_path,
                                          capsys):
    with open(tested['dump'], 'rb') as f:
        d = pickle.load(f)
    d['img_paths'] = d['img_paths'][::-1]
    bad = tmp_path / 'shuffled.pkl'
    with open(bad, 'wb') as f:
        pickle.dump(d, f)
    main = tool_main('tools/visualization/vis_rank_list.py')
    with pytest.raises(SystemExit) as exit_:
        main([str(tiny_config), '--dump', str(bad), '--out-dir',
              str(tmp_path / 'x')])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert 'shuffled.pkl: row 0 holds' in err and 'use the config' in err
