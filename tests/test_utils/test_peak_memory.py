# Copyright (c) mmieee contributors.
"""The peak-memory reader (mmieee/utils/peak_memory.py): a peak that is
gone from the resident set is still counted, and a reset starts anew."""
import subprocess
import sys

import pytest

from mmieee.utils.peak_memory import PeakMemory, current_rss_bytes

# Run in a fresh interpreter: in a pytest worker, memory that earlier tests
# left to other threads or to the allocator would move the resident set
# while the scenario measures it.
_SCENARIO = """
import numpy as np
from mmieee.utils.peak_memory import PeakMemory, current_rss_bytes
MB = 2**20


def touch_and_free(nbytes):
    block = np.ones(nbytes, dtype=np.uint8)  # pages written: resident
    assert block.sum() == nbytes
    del block


peak = PeakMemory('cpu')
assert peak.kind == 'peak RSS', peak.kind
base = current_rss_bytes()
assert base > 0
touch_and_free(200 * MB)
after_free = current_rss_bytes()
assert after_free < base + 100 * MB, (base, after_free)  # given back
first = peak.peak_bytes()
assert first >= base + 190 * MB, (base, first)  # the peak is kept
peak.reset()
start = current_rss_bytes()
assert peak.peak_bytes() < first - 100 * MB, (first, peak.peak_bytes())
touch_and_free(200 * MB)
assert peak.peak_bytes() >= start + 150 * MB, (start, peak.peak_bytes())
print('scenario passed')
"""


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='the peak can be reset on Linux only')
def test_peak_counts_freed_memory_and_reset_forgets_it():
    proc = subprocess.run([sys.executable, '-c', _SCENARIO],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == 'scenario passed'


def test_lifetime_peak_without_reset():
    peak = PeakMemory('cpu', reset=False)
    assert peak.kind == 'peak RSS (process lifetime)'
    assert peak.peak_bytes() >= current_rss_bytes() > 0
