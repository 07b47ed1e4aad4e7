# Copyright (c) mmieee contributors.
"""One training per work dir: a lock file that names its holder.

Two trainings started on the same work dir (a second terminal, a job
submitted twice) write one interleaved log and overwrite each other's
checkpoints, and nothing says so. ``tools/train.py`` holds
:class:`WorkDirLock` while it trains: a second training on that work dir
stops at once with :class:`~.errors.WorkDirBusyError` naming the first one
(pid, host, start time, command).

The lock is the kernel's (``fcntl.flock`` on ``<work_dir>/.train.lock``):
the kernel releases it when its process ends, however it ends, so a run
killed with ``kill -9`` or by a power cut leaves no lock that blocks the
next one (its file is left and taken over). A clean end removes the file.
Where ``fcntl`` is missing (Windows) the file alone is the lock and a lock
whose process is gone (same host, pid no longer running or running since
another time) is taken over. In a distributed run only rank 0 locks.
"""
import datetime
import json
import os
import os.path as osp
import socket
import sys
from typing import Optional

from .errors import WorkDirBusyError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

#: The lock file inside the work dir.
LOCK_NAME = '.train.lock'


def process_start_time(pid: int) -> Optional[str]:
    """When process ``pid`` started (clock ticks since boot, from
    ``/proc/<pid>/stat``), to tell a reused pid apart; None where unknown.
    """
    try:
        with open(f'/proc/{pid}/stat', encoding='utf-8') as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its ')'
    fields = stat.rsplit(')', 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def process_alive(pid: int, start_time: Optional[str] = None) -> bool:
    """Whether process ``pid`` runs on this host (and, when
    ``start_time`` is given, is the process that started then)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    now = process_start_time(pid)
    return start_time is None or now is None or now == start_time


class WorkDirLock:
    """Hold ``<work_dir>/.train.lock`` for the duration of a ``with`` block.

    Args:
        work_dir (str): The training's work dir (created if missing).

    Raises:
        WorkDirBusyError: On entry, when another process holds the lock;
            the message names it and says what to do.
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = str(work_dir)
        self.path = osp.join(self.work_dir, LOCK_NAME)
        self._fd: Optional[int] = None

    def _holder(self) -> dict:
        try:
            with open(self.path, encoding='utf-8') as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _busy(self, holder: dict) -> WorkDirBusyError:
        who = f'pid {holder.get("pid", "?")} on {holder.get("host", "?")}'
        since = holder.get('started')
        command = holder.get('command')
        return WorkDirBusyError(
            f'work dir {self.work_dir} is in use by another training ({who}'
            + (f', started {since}' if since else '')
            + (f': {command}' if command else '') + '). Wait for it to '
            'end, stop it, or train in another folder with --work-dir.'
            + ('' if holder.get('host') in (None, socket.gethostname())
               else f' If that process is gone, delete {self.path}.'))

    def _record(self) -> bytes:
        return json.dumps(dict(
            pid=os.getpid(), host=socket.gethostname(),
            start_time=process_start_time(os.getpid()),
            started=datetime.datetime.now().isoformat(timespec='seconds'),
            command=' '.join([osp.basename(sys.executable)] + sys.argv)
        )).encode()

    def _acquire_flock(self) -> None:
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise self._busy(self._holder())
            # the holder before us may have removed the file between our
            # open and our lock: then we locked a file nobody else sees
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, self._record())
                os.fsync(fd)
                self._fd = fd
                return
            os.close(fd)
        raise WorkDirBusyError(f'could not lock {self.path}: it keeps being '
                               'replaced by another process')

    def _acquire_file(self) -> None:  # pragma: no cover - no fcntl
        for _ in range(10):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             0o644)
            except FileExistsError:
                holder = self._holder()
                if holder.get('host') != socket.gethostname() or \
                        process_alive(int(holder.get('pid', 0)),
                                      holder.get('start_time')):
                    raise self._busy(holder)
                os.remove(self.path)  # stale: its process is gone
                continue
            os.write(fd, self._record())
            self._fd = fd
            return
        raise WorkDirBusyError(f'could not lock {self.path}')

    def __enter__(self) -> 'WorkDirLock':
        os.makedirs(self.work_dir, exist_ok=True)
        if fcntl is not None:
            self._acquire_flock()
        else:  # pragma: no cover
            self._acquire_file()
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is None:
            return
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)  # releases the flock
        self._fd = None
