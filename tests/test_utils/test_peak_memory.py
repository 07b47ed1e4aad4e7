# Copyright (c) mmieee contributors.
"""The peak-memory reader (mmieee/utils/peak_memory.py): a peak that is
gone from the resident set is still counted, and a reset starts anew."""
import sys

import numpy as np
import pytest

from mmieee.utils.peak_memory import PeakMemory, current_rss_bytes

MB = 2**20


def _touch_and_free(nbytes: int) -> None:
    block = np.ones(nbytes, dtype=np.uint8)  # pages written: resident
    assert block.sum() == nbytes
    del block


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='the peak can be reset on Linux only')
def test_peak_counts_freed_memory_and_reset_forgets_it():
    peak = PeakMemory('cpu')
    assert peak.kind == 'peak RSS'
    base = current_rss_bytes()
    assert base > 0
    _touch_and_free(200 * MB)
    after_free = current_rss_bytes()
    assert after_free < base + 100 * MB  # returned to the system
    first = peak.peak_bytes()
    assert first >= base + 190 * MB
    peak.reset()
    start = current_rss_bytes()
    assert peak.peak_bytes() < first - 100 * MB
    _touch_and_free(200 * MB)
    assert peak.peak_bytes() >= start + 150 * MB


def test_lifetime_peak_without_reset():
    peak = PeakMemory('cpu', reset=False)
    assert peak.kind == 'peak RSS (process lifetime)'
    assert peak.peak_bytes() >= current_rss_bytes() > 0
