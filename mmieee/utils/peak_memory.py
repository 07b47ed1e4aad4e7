# Copyright (c) mmieee contributors.
"""Peak memory of this process, the one reader of every benchmark.

On a GPU: ``torch.cuda.max_memory_allocated`` (what the caching allocator
handed out, since :meth:`PeakMemory.reset`). On CPU: the peak resident set
size. Linux lets a process reset its peak (writing ``5`` to
``/proc/self/clear_refs`` resets ``VmHWM`` in ``/proc/self/status``), so a
peak can be measured from a starting point inside one process; elsewhere
(or without the reset) it is the peak of the whole process' lifetime,
``ru_maxrss``, which is why the benchmarks run each case in a fresh
process. Written by hand: psutil (not a dependency) reports no peak on
Linux, and torch only the GPU's.
"""
import os
import resource
import sys

import torch

#: ``/proc`` files of the Linux peak-RSS counter.
CLEAR_REFS = '/proc/self/clear_refs'
STATUS = '/proc/self/status'


def current_rss_bytes() -> int:
    """Resident memory of this process now, in bytes (0 where unknown)."""
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
    except OSError:
        return 0
    return pages * os.sysconf('SC_PAGE_SIZE')


def _vm_hwm_bytes() -> int:
    """``VmHWM`` of ``/proc/self/status`` in bytes (0 where unknown)."""
    try:
        with open(STATUS) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _ru_maxrss_bytes() -> int:
    """Lifetime peak resident set from ``getrusage`` (kB on Linux, bytes
    on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == 'darwin' else peak * 1024


class PeakMemory:
    """The peak memory of this process on a device, from a starting point.

    Args:
        device (str | torch.device): ``'cpu'`` (resident set size) or a
            CUDA device (the allocator's peak).
        reset (bool): Start counting now (:meth:`reset`). Without it, the
            CPU peak is that of the process' lifetime and the GPU peak that
            of the last reset of torch's statistics.
    """

    def __init__(self, device='cpu', reset: bool = True) -> None:
        self.device = torch.device(device)
        self.since_reset = False
        if reset:
            self.reset()

    @property
    def cuda(self) -> bool:
        return self.device.type == 'cuda'

    def reset(self) -> None:
        """Count the peak from now on (CPU: where Linux allows it)."""
        if self.cuda:
            torch.cuda.synchronize(self.device)
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
            self.since_reset = True
            return
        try:
            with open(CLEAR_REFS, 'w') as f:
                f.write('5')
            self.since_reset = True
        except OSError:
            self.since_reset = False

    @property
    def kind(self) -> str:
        """What :meth:`peak_bytes` measures, for reports."""
        if self.cuda:
            return 'max_memory_allocated'
        return 'peak RSS' if self.since_reset else \
            'peak RSS (process lifetime)'

    def peak_bytes(self) -> int:
        """The peak in bytes (see the class)."""
        if self.cuda:
            return int(torch.cuda.max_memory_allocated(self.device))
        return _vm_hwm_bytes() or _ru_maxrss_bytes()
