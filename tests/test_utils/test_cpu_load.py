# Copyright (c) mmieee contributors.
"""CPU load and torch threads (mmieee/utils/cpu_load.py): when the advice
to use one thread is given, and that it is logged once per process."""
import logging

import pytest
import torch

from mmieee.utils import cpu_load


@pytest.mark.parametrize('threads, load, cores, warned', [
    # torch's default (threads = cores) on an idle machine: no advice
    (2, 0.3, 2, False),
    (16, 0.9, 16, False),
    # one busy process beside the default threads (measured: re-ranking
    # 17x slower with 16 threads on 16 cores, docs/performance.md)
    (2, 1.2, 2, True),
    (16, 1.4, 16, True),
    # fewer threads than idle cores, or one thread: nothing to gain
    (2, 1.4, 16, False),
    (1, 40.0, 2, False),
    # more threads than cores
    (4, 0.0, 2, True),
])
def test_advice_follows_load_threads_and_cores(threads, load, cores,
                                               warned):
    advice = cpu_load.oversubscription(threads, load, cores)
    assert (advice is not None) == warned
    if warned:
        assert f'load average is {load:.2f} on {cores} cores' in advice
        assert f'torch uses {threads} threads' in advice
        assert 'OMP_NUM_THREADS=1' in advice


def test_warned_once_per_process_with_the_load_now(monkeypatch):
    logged = []
    monkeypatch.setattr(cpu_load, 'print_log',
                        lambda msg, logger, level: logged.append(
                            (msg, logger, level)))
    monkeypatch.setattr(cpu_load, '_warned', False)
    monkeypatch.setattr(cpu_load.os, 'getloadavg', lambda: (3.0, 2.0, 1.0))
    monkeypatch.setattr(cpu_load, 'usable_cores', lambda: 2)
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 2)
    first = cpu_load.warn_if_oversubscribed()
    second = cpu_load.warn_if_oversubscribed()
    assert first == second and 'load average is 3.00 on 2 cores' in first
    assert logged == [(first, 'current', logging.WARNING)]
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 1)
    assert cpu_load.warn_if_oversubscribed() is None


def test_load_average_where_unknown(monkeypatch):
    def unavailable():
        raise OSError('no load average here')

    monkeypatch.setattr(cpu_load.os, 'getloadavg', unavailable)
    assert cpu_load.load_average() == []
    assert cpu_load.warn_if_oversubscribed() is None
