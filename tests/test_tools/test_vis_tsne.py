# Copyright (c) mmieee contributors.
"""tools/visualization/vis_tsne.py on the tiny trained model (features
extracted from the checkpoint)."""
import runpy
from pathlib import Path

import mmcv
import numpy as np
import pytest

import mmieee  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
TOOL = str(REPO / 'tools' / 'visualization' / 'vis_tsne.py')


def test_modality_level_embedding_and_picture(tools, tiny_config,
                                              trained_run, tmp_path):
    main = runpy.run_path(TOOL)['main']
    out = tmp_path / 'tsne' / 'fig.png'
    res = main([
        str(tiny_config),
        str(tools.best_checkpoint(trained_run)), '--out',
        str(out), '--num-ids', '3', '--seed', '1'
    ])
    saved = np.load(tmp_path / 'tsne' / 'fig.npz')
    # 3 of the 4 test ids, 2 cameras x 2 images each, 3 modalities.
    n = 3 * 2 * 2
    assert saved['embedding'].shape == (n * 3, 2)
    assert saved['modality'].tolist() == [0, 1, 2] * n
    assert saved['modalities'].tolist() == ['RGB', 'NI', 'TI']
    assert len(np.unique(saved['pids'])) == 3
    np.testing.assert_array_equal(saved['embedding'], res['embedding'])
    # The figure: one marker set per modality, holding its points.
    ax = res['figure'].axes[0]
    assert [c.get_label() for c in ax.collections] == ['RGB', 'NI', 'TI']
    for m, coll in enumerate(ax.collections):
        np.testing.assert_allclose(coll.get_offsets(),
                                   saved['embedding'][saved['modality'] == m])
    img = mmcv.imread(str(out), channel_order='rgb')
    assert img.shape[0] > 300 and len(np.unique(img.reshape(-1, 3), 0)) > 10


def test_dump_with_another_model_is_refused(tiny_config, tmp_path, capsys):
    import pickle
    dump = tmp_path / 'f.pkl'
    with open(dump, 'wb') as f:
        pickle.dump(dict(feats=np.zeros((6, 10), np.float32),
                         pids=np.arange(6)), f)
    main = runpy.run_path(TOOL)['main']
    with pytest.raises(SystemExit) as exit_:
        main([str(tiny_config), '--dump', str(dump), '--out',
              str(tmp_path / 'x.png')])
    assert exit_.value.code == 2
    assert 'feature length 10 is not a multiple of the number of ' \
        'modalities 3' in capsys.readouterr().err


class _System:
    """A dump whose unpickling runs a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f'touch {self.marker}', )


@pytest.mark.parametrize('tool', ['vis_tsne.py', 'vis_rank_list.py'])
def test_dump_with_a_system_call_is_refused(tiny_config, tmp_path, capsys,
                                            tool):
    """The vis tools read --dump with a plain unpickle: the command ran
    and the tool exited 0."""
    import pickle
    marker = tmp_path / 'ran'
    dump = tmp_path / 'feats.pkl'
    dump.write_bytes(pickle.dumps(dict(feats=_System(marker))))
    main = runpy.run_path(str(REPO / 'tools' / 'visualization' / tool))['main']
    out = ['--out', str(tmp_path / 'x.png')] if tool == 'vis_tsne.py' \
        else ['--out-dir', str(tmp_path / 'x')]
    with pytest.raises(SystemExit) as exit_:
        main([str(tiny_config), '--dump', str(dump)] + out)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f'Error: Refusing to read {dump}: it holds a '
                          'posix.system object')
    assert not marker.exists()


def test_out_that_is_a_folder_is_refused_first(tiny_config, tmp_path,
                                               capsys):
    folder = tmp_path / 'pic.png'
    folder.mkdir()
    main = runpy.run_path(TOOL)['main']
    with pytest.raises(SystemExit) as exit_:
        main([str(tiny_config), '--dump', str(tmp_path / 'none.pkl'),
              '--out', str(folder)])
    assert exit_.value.code == 2
    assert f'Error: --out {folder} is a folder' in capsys.readouterr().err


def test_missing_scikit_learn_is_named_before_any_extraction(
        tiny_config, tmp_path, capsys, monkeypatch):
    """No checkpoint is read and no feature extracted: the missing extra is
    reported first, with the command the docs recommend."""
    import sys
    monkeypatch.setitem(sys.modules, 'sklearn', None)
    main = runpy.run_path(TOOL)['main']
    with pytest.raises(SystemExit) as exit_:
        main([str(tiny_config), str(tmp_path / 'never_read.pth'), '--out',
              str(tmp_path / 't.png')])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "t-SNE (scikit-learn) needs the optional package 'sklearn'" in err
    assert 'pip install -e ".[vis]"' in err
