# Copyright (c) mmieee contributors.
"""tools/analysis_tools/benchmark_retrieval.py: a case's sizes and the
module's memory formula, and each row reaching --out as soon as it is
measured (the child processes run in this process here)."""
import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(monkeypatch):
    spec = importlib.util.spec_from_file_location(
        'mmieee_benchmark_retrieval',
        REPO / 'tools' / 'analysis_tools' / 'benchmark_retrieval.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    children = []

    def child_in_process(cmd, **kwargs):
        backend, g, q, d = cmd[cmd.index('--child') + 1].split(',')
        children.append((backend, int(g)))
        if len(children) == 3:
            raise KeyboardInterrupt
        row = module.run_case(backend, int(g), int(q), int(d), 10)
        return subprocess.CompletedProcess(cmd, 0, json.dumps(row), '')

    monkeypatch.setattr(module.subprocess, 'run', child_in_process)
    return module


def test_rows_reach_out_as_they_are_measured(bench, tmp_path, capsys):
    out = tmp_path / 'rows.json'
    with pytest.raises(KeyboardInterrupt):  # during the third case
        bench.main(['--cases', '4000,20,32', '5000,20,32', '6000,20,32',
                    '--out', str(out)])
    rows = json.loads(out.read_text())
    assert [(r['gallery'], r['queries'], r['dim']) for r in rows] == [
        (4000, 20, 32), (5000, 20, 32)]
    for r in rows:
        assert r['features_mb'] == r['gallery'] * 32 * 4 / 1e6
        # exact search, one chunk of all 20 queries: max(G*D*4,
        # 20*G*4 + 20*G*16) + G*4 bytes
        assert r['predicted_mb'] == (20 * r['gallery'] * 20 +
                                     r['gallery'] * 4) / 1e6
        assert r['seconds'] > 0 and r['search_peak_mb'] >= 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ['backend', 'G', 'Q', 'D', 'feats', 'MB',
                                'search', 'peak', 'MB', 'predicted', 'MB',
                                'time', 's']
    assert [ln.split()[:4] for ln in lines[1:]] == [
        ['exact', '4000', '20', '32'], ['exact', '5000', '20', '32']]
