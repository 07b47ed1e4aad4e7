# Copyright (c) mmieee contributors.
"""WorkDirLock: a second training on a work dir is refused naming the
first; the lock is gone after a clean end and does not block after a
crash."""
import os
import signal
import subprocess
import sys
import time

import pytest

from mmieee.utils.errors import WorkDirBusyError
from mmieee.utils.work_dir_lock import LOCK_NAME, WorkDirLock, process_alive

HOLD = ('import sys, time\n'
        'from mmieee.utils.work_dir_lock import WorkDirLock\n'
        'with WorkDirLock(sys.argv[1]):\n'
        '    print("locked", flush=True)\n'
        '    time.sleep(60)\n')


def _holder(work_dir):
    proc = subprocess.Popen([sys.executable, '-c', HOLD, str(work_dir)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'locked'
    return proc


def test_second_training_is_refused_naming_the_first(tmp_path):
    proc = _holder(tmp_path)
    try:
        with pytest.raises(WorkDirBusyError) as err:
            with WorkDirLock(str(tmp_path)):
                pass
        msg = str(err.value)
        assert f'work dir {tmp_path} is in use' in msg
        assert f'pid {proc.pid}' in msg and '--work-dir' in msg
    finally:
        proc.kill()
        proc.wait()


def test_lock_of_a_killed_training_is_taken_over(tmp_path):
    proc = _holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (tmp_path / LOCK_NAME).exists()  # left by the crash
    start = time.time()
    with WorkDirLock(str(tmp_path)):
        assert f'"pid": {os.getpid()}' in (tmp_path / LOCK_NAME).read_text()
    assert time.time() - start < 5
    assert not (tmp_path / LOCK_NAME).exists()  # a clean end removes it


def test_lock_is_released_on_an_exception(tmp_path):
    with pytest.raises(RuntimeError):
        with WorkDirLock(str(tmp_path / 'new')):
            raise RuntimeError('training failed')
    assert not (tmp_path / 'new' / LOCK_NAME).exists()
    with WorkDirLock(str(tmp_path / 'new')):
        pass


def test_process_alive_tells_a_reused_pid_apart():
    from mmieee.utils.work_dir_lock import process_start_time
    assert process_alive(os.getpid())
    start = process_start_time(os.getpid())
    if start is not None:  # Linux
        assert not process_alive(os.getpid(), str(int(start) + 1))
