# Copyright (c) mmieee contributors.
"""CPU load and torch threads: read the load once, warn when torch's
threads outnumber the cores that are free.

torch runs its CPU operators on one thread per core (OpenMP). A parallel
operator ends only when its slowest thread does, and by default the threads
that arrive first spin rather than sleep, so when other processes keep some
cores busy, every operator waits for the threads that share a core with
them; code made of many small operators (k-reciprocal re-ranking, the
training step of a small model) then runs many times slower than with one
thread. docs/performance.md ("Threads on a busy machine") has the
measurements behind the rule of :func:`oversubscription`.
"""
import logging
import os
from typing import List, Optional

import torch
from mmengine.logging import print_log

#: Load above ``cores - threads`` tolerated before warning (the load of the
#: starting tool itself and short-lived processes).
LOAD_MARGIN = 1.0

_warned = False


def load_average() -> List[float]:
    """1, 5 and 15-minute load averages, rounded (empty where unknown)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return []


def usable_cores() -> int:
    """Cores this process may run on (its affinity, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def oversubscription(num_threads: int, load: float,
                     cores: int) -> Optional[str]:
    """The advice when ``num_threads`` torch threads on ``cores`` cores
    with a 1-minute load average ``load`` would share cores with other
    work, else None.

    Args:
        num_threads (int): torch's intra-op threads.
        load (float): 1-minute load average (runnable processes).
        cores (int): Usable cores.

    Returns:
        str | None: The warning text (it names the three numbers).
    """
    if num_threads <= 1 or load + num_threads <= cores + LOAD_MARGIN:
        return None
    return (f'the load average is {load:.2f} on {cores} cores and torch '
            f'uses {num_threads} threads: threads that share a core with '
            'other work make every parallel operator wait, and evaluation '
            '(re-ranking most of all) can become many times slower. While '
            'the machine is busy, start the tool with OMP_NUM_THREADS=1 (or '
            'at most the number of idle cores), or keep the threads with '
            'OMP_WAIT_POLICY=PASSIVE; see docs/performance.md, "Threads on '
            'a busy machine"')


def warn_if_oversubscribed() -> Optional[str]:
    """Log :func:`oversubscription`'s advice once per process (mmengine's
    current logger) for torch's threads and the load now.

    Returns:
        str | None: The advice when it applies.
    """
    global _warned
    load = load_average()
    if not load:
        return None
    advice = oversubscription(torch.get_num_threads(), load[0],
                              usable_cores())
    if advice and not _warned:
        _warned = True
        print_log(advice, logger='current', level=logging.WARNING)
    return advice
