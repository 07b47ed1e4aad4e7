# Copyright (c) mmieee contributors.
"""tools/analysis_tools/benchmark_eval.py: the metric's path and the
reference loop give the same numbers, re-ranking and thread counts are
rows of their own, and a run cut short keeps the rows measured so far.

The measurements run in this process (the tool runs each in a fresh
subprocess for its own memory peak; that changes nothing measured here).
"""
import argparse
import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(monkeypatch):
    spec = importlib.util.spec_from_file_location(
        'mmieee_benchmark_eval',
        REPO / 'tools' / 'analysis_tools' / 'benchmark_eval.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls = []

    def in_process(kind, case, threads, args):
        calls.append((kind, threads))
        return module.worker(argparse.Namespace(
            worker=kind, case=case, threads=[threads], device='cpu',
            chunk_size=None, loop_queries=0))

    monkeypatch.setattr(module, '_run', in_process)
    module.calls = calls
    return module


def test_rows_per_kind_and_thread_count(bench, tmp_path, capsys):
    out = tmp_path / 'eval.json'
    rows = bench.main(['--cases', '40,200,16', '--threads', '1', '2',
                       '--rerank', '--out', str(out)])
    assert bench.calls == [('chunked', 1), ('rerank', 1), ('loop', 1),
                           ('chunked', 2), ('rerank', 2), ('loop', 2)]
    by = {(r['kind'], r['threads']): r for r in rows}
    for threads in (1, 2):
        metric, loop = by['chunked', threads], by['loop', threads]
        # the metric's ranking and the per-query reference: one protocol
        for key in ('mAP', 'R1', 'mINP', 'num_valid_queries'):
            assert metric[key] == pytest.approx(loop[key], abs=1e-6)
        assert by['rerank', threads]['mAP'] != pytest.approx(metric['mAP'])
        assert by['rerank', threads]['num_valid_queries'] == \
            metric['num_valid_queries']
    saved = json.loads(out.read_text())
    assert saved['complete'] is True and len(saved['rows']) == 6
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].split()[:3] == ['kind', 'thr', 'Q']
    assert [ln.split()[:3] for ln in printed[2:5]] == [
        ['chunked', '1', '40x200x16'], ['rerank', '1', '40x200x16'],
        ['loop', '1', '40x200x16']]
    assert 'speed-up of chunked over loop at 2 threads' in printed[-1]


def test_a_run_cut_short_keeps_its_rows(bench, tmp_path, monkeypatch):
    out = tmp_path / 'eval.json'
    measure = bench._run

    def cut_at_the_second(kind, case, threads, args):
        if bench.calls:
            raise KeyboardInterrupt
        return measure(kind, case, threads, args)

    monkeypatch.setattr(bench, '_run', cut_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        bench.main(['--cases', '40,200,16', '--out', str(out)])
    saved = json.loads(out.read_text())
    assert saved['complete'] is False
    assert [(r['kind'], r['threads']) for r in saved['rows']] == [
        ('chunked', 2)]
    assert saved['rows'][0]['seconds'] > 0


def test_malformed_cases_are_refused(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(['--cases', '40,200'])
    assert '--cases takes Q,G,D triples' in capsys.readouterr().err
