# Copyright (c) mmieee contributors.
"""demo/retrieval_demo.py, run in-process on the tiny model."""
import importlib.util
import json
import os

import pytest

import mmieee.apis.gallery as gallery_module
from mmieee.utils.model_index import REPO_ROOT

DEMO = REPO_ROOT / 'demo' / 'retrieval_demo.py'
_spec = importlib.util.spec_from_file_location('retrieval_demo', DEMO)
demo = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo)


def test_demo_ranks_named_and_plain_triplets(tiny_files, tmp_path, capsys,
                                             monkeypatch):
    test = os.path.join(tiny_files['root'], 'test')
    name = '000004_cam2_0_01.jpg'
    plain = ','.join(os.path.join(test, m, name) for m in ('RGB', 'NI', 'TI'))
    named = ','.join(f'{m}={os.path.join(test, m, name)}'
                     for m in ('RGB', 'NI', 'TI'))
    out = tmp_path / 'out'
    args = [test, plain, named, '--config', tiny_files['config'],
            '--checkpoint', tiny_files['checkpoint'], '--topk', '4',
            '--out', str(out), '--cache-dir', str(tmp_path / 'cache')]
    results = demo.main(args)
    text = capsys.readouterr().out
    assert len(results) == 2
    assert results[0]['matches'] == results[1]['matches']
    assert results[0]['query']['pid'] == 4 and \
        results[0]['num_excluded'] == 2
    assert f'query 0: {name[:-4]} (id 4, camera 1); 2 gallery items ' \
        'excluded' in text
    first = results[0]['matches'][0]
    assert f'    1  d={first["distance"]:.4f}  id {first["pid"]}' in text
    saved = json.loads((out / 'results.json').read_text())
    assert saved == results
    assert 'and 2 rank-list pictures' in text
    assert len(list(out.glob('*.png'))) == 2
    # second run: the gallery comes from the cache
    calls = []
    monkeypatch.setattr(gallery_module, 'extract_features',
                        lambda *a, **k: calls.append(1))
    assert demo.main(args)[0]['matches'] == results[0]['matches']
    assert calls == []


def test_demo_refuses_bad_queries_before_the_gallery(tiny_files, tmp_path,
                                                     capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(gallery_module, 'extract_features',
                        lambda *a, **k: calls.append(1))
    test = os.path.join(tiny_files['root'], 'test')
    name = '000004_cam2_0_01.jpg'
    swapped = ','.join(f'{m}={os.path.join(test, m, name)}'
                       for m in ('NI', 'RGB', 'TI'))
    with pytest.raises(SystemExit) as exc:
        demo.main([test, swapped, '--config', tiny_files['config'],
                   '--checkpoint', tiny_files['checkpoint'], '--no-cache'])
    assert exc.value.code == 2
    assert "Error: query 0 names the modalities ('NI', 'RGB', 'TI'), but " \
        "the model takes ('RGB', 'NI', 'TI')" in capsys.readouterr().err
    assert calls == []
