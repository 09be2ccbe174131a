"""When a dropped file is complete: the writers' convention, a kernel lease probe, and a settle time.

The convention is to write under a temporary name in the drop directory (one this module ignores:
a leading `.` or `~`, or an ending of WRITING_SUFFIXES) and rename it to its final name once
complete: a rename is atomic, so the connector sees the whole file or nothing. For writers that
write in place (`cp`, an upload tool without a temporary name), two guards keep a half-written file
from being read:

- on Linux, a read lease (`F_SETLEASE`) cannot be taken while any process holds the file open for
  writing: the probe takes one and gives it back at once, and a file that refuses it is left for
  the next scan. Only the file's owner (or CAP_LEASE) may take a lease; where it is refused for
  that, or the filesystem has none (NFS), the settle time alone decides;
- the settle time: a file is taken once its last change is `settle_s` old, or once the connector
  has seen it unchanged (size, times, inode) for `settle_s` (so a clock or mtime in the future
  cannot hold it back forever).
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import stat
import time
from dataclasses import dataclass

WRITING_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".download", ".swp", "~")
# The lease-break signal, in case a writer opens the file during the microseconds the probe holds its
# lease: SIGWINCH is ignored by default, where the kernel's default (SIGIO) would end the process.
LEASE_BREAK_SIGNAL = signal.SIGWINCH


def is_in_writing(name: str) -> bool:
    """True for a name the convention reserves for files still being written (never read)."""
    return name.startswith((".", "~")) or name.lower().endswith(WRITING_SUFFIXES)


def writer_holds(path: str) -> bool | None:
    """True when a process holds `path` open for writing, False when none does, None when the kernel cannot tell."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, LEASE_BREAK_SIGNAL)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:  # EAGAIN: a writer has it open; anything else: no lease here (owner, filesystem)
        return True if exc.errno in (errno.EAGAIN, errno.EBUSY) else None
    else:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Seen:
    """A file's identity and state at one scan, and when it was first seen so."""

    state: tuple[int, int, int, int, int]  # device, inode, size, mtime_ns, ctime_ns
    since: float  # time.monotonic() of the first scan that saw this state


def state_of(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What changes when a file is written to, replaced or touched."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Settle:
    """Tells which files are complete; remembers each file's state between scans."""

    def __init__(self, settle_s: float, leases: bool = True) -> None:
        self.settle_s = settle_s
        self.leases = leases  # False: the settle time alone decides (tests of the fallback)
        self._seen: dict[str, Seen] = {}
        self._marked: set[str] = set()

    def ready(self, path: str, st: os.stat_result) -> bool:
        """True when the regular file at `path` (lstat `st`) is complete by every available test."""
        self._marked.add(path)
        now, state = time.monotonic(), state_of(st)
        seen = self._seen.get(path)
        if seen is None or seen.state != state:
            seen = self._seen[path] = Seen(state, now)
        if not stat.S_ISREG(st.st_mode):
            return True  # not a file anyone writes into: refused by the caller, whatever its age
        settled = time.time() - st.st_mtime >= self.settle_s or now - seen.since >= self.settle_s
        if not settled:
            return False
        return not (self.leases and writer_holds(path))

    def forget(self) -> None:
        """Drop what is known of files not looked at since the last call (taken, or gone)."""
        self._seen = {p: s for p, s in self._seen.items() if p in self._marked}
        self._marked = set()
