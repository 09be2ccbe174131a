"""A drop directory on disk: claim a complete file, read it within bounds, file it under done/ or rejected/.

    DIR/NAME                 dropped: write `.NAME.tmp` (or `NAME.part`), then rename it to NAME
    DIR/processing/NAME      claimed: being read and submitted; after a crash it is taken up first
    DIR/done/NAME            submitted and acknowledged by the broker (the hub's decision is the ledger's)
    DIR/rejected/NAME        never submitted; DIR/rejected/NAME.reason says why, in one line
    DIR/.hub-files.lock      held by the one process working on DIR

Every move is a rename within one directory tree, so a file is at any moment in exactly one of these
places: never lost, whatever crash happens between two steps. Claiming (a rename into processing/)
comes before reading, so what is read is the file that was claimed, even if a new NAME is dropped
meanwhile. Only regular files with a single name are read: a symbolic link (which could lead out of
the directory), a hard link, a FIFO or a device is rejected unread. Directories are left alone.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from connectors.atomic import remove_stale, sync_dirs, write_atomic
from connectors.files.ready import Settle, is_in_writing
from connectors.http import one_line
from hub.errors import ConnectorError
from hub.files import size_text

LOCK_NAME = ".hub-files.lock"
PROCESSING, DONE, REJECTED = "processing", "done", "rejected"
REASON_SUFFIX = ".reason"
NAME_MAX = 255  # bytes in one file name on Linux filesystems (ext4, xfs, btrfs, tmpfs)
REASON_LIMIT = 1000  # characters of a reason line


@dataclass(frozen=True)
class Unusable:
    """A file that will never be submitted, where it lies, and why."""

    where: Path  # the directory holding it now: DIR or DIR/processing
    name: str
    reason: str


class DropDir:
    """One drop directory: its subdirectories, its lock, and the moves between them."""

    def __init__(self, path: Path, settle: Settle, max_bytes: int) -> None:
        self.path = path
        self.processing, self.done_dir, self.rejected_dir = path / PROCESSING, path / DONE, path / REJECTED
        self.settle = settle
        self.max_bytes = max_bytes
        self._lock_fd: int | None = None

    def open(self) -> None:
        """Make the directory and its subdirectories; ConnectorError when they cannot be used."""
        try:
            for d in (self.path, self.processing, self.done_dir, self.rejected_dir):
                d.mkdir(parents=True, exist_ok=True)
                if not d.is_dir() or not os.access(d, os.W_OK | os.X_OK):
                    raise ConnectorError(f"drop directory {d} is not a directory this process can write")
            remove_stale(self.rejected_dir)
        except OSError as exc:
            raise ConnectorError(f"drop directory {self.path} cannot be used: {exc}") from exc

    def lock(self) -> bool:
        """Take DIR's lock (kept until `unlock`); False when another process holds it."""
        if self._lock_fd is not None:
            return True
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.path / LOCK_NAME, flags, 0o600)
        except OSError as exc:
            raise ConnectorError(f"drop directory {self.path}: cannot open its lock: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def unlock(self) -> None:
        """Give the lock back (the kernel does it too when the process dies)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def scan(self) -> list[tuple[Path, str]]:
        """Files to look at, oldest first: those claimed before (a crash, a file still changing), then new ones."""
        found: list[tuple[float, Path, str]] = []
        for where in (self.processing, self.path):
            with os.scandir(where) as entries:
                for entry in entries:
                    if is_in_writing(entry.name) or entry.is_dir(follow_symlinks=False):
                        continue
                    try:
                        mtime = entry.stat(follow_symlinks=False).st_mtime
                    except FileNotFoundError:
                        continue
                    found.append((mtime if where == self.path else float("-inf"), where, entry.name))
        found.sort(key=lambda f: (f[0], f[2]))
        self.settle.forget()
        return [(where, name) for _, where, name in found]

    def claim(self, where: Path, name: str) -> str | Unusable | None:
        """Move a complete file into processing/ (returns its name there); Unusable; None to wait."""
        try:
            st = os.lstat(where / name)
        except FileNotFoundError:
            return None  # taken away by someone else: nothing to do
        problem = self._unreadable(where / name, st)
        if problem is not None:
            return Unusable(where, name, problem)
        if not self.settle.ready(str(where / name), st):
            return None
        if where == self.processing:
            return name
        if os.path.lexists(self.processing / name):
            return None  # a file of that name is still in processing/: this one waits for it
        os.rename(where / name, self.processing / name)  # OSError: the caller leaves it, the others go on
        return name

    def _unreadable(self, path: Path, st: os.stat_result) -> str | None:
        """Why the entry at `path` (lstat `st`) is never read, or None."""
        if stat.S_ISLNK(st.st_mode):
            target = one_line(os.readlink(path), 200)
            return f"is a symbolic link (to {target}): drop the file itself; links are not followed"
        if not stat.S_ISREG(st.st_mode):
            return "is not a regular file (a FIFO, socket or device)"
        if st.st_nlink > 1:
            return f"has {st.st_nlink} names (hard links): drop a file of its own, by rename"
        if st.st_size > self.max_bytes:
            return f"is {st.st_size:,} bytes, more than the {size_text(self.max_bytes)} a dropped file may hold"
        return None

    def read(self, name: str) -> bytes | Unusable | None:
        """The bytes of processing/NAME, read whole; Unusable; None when it changed while read (read again later)."""
        path = self.processing / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            return Unusable(self.processing, name, f"cannot be read: {exc.strerror}")
        with os.fdopen(fd, "rb") as file:
            before = os.fstat(fd)
            problem = self._unreadable(path, before)
            if problem is not None:
                return Unusable(self.processing, name, problem)
            try:
                data = file.read(self.max_bytes + 1)
            except OSError as exc:
                return Unusable(self.processing, name, f"cannot be read: {exc.strerror}")
            after = os.fstat(fd)
        changed = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
        return None if changed or len(data) != after.st_size else data

    def file_done(self, name: str) -> str:
        """Move processing/NAME to done/ (under a free name); returns the name it got there."""
        final = self._free(self.done_dir, name, 0)
        os.rename(self.processing / name, self.done_dir / final)
        return final

    def file_rejected(self, item: Unusable) -> str:
        """Write rejected/NAME.reason, then move the file to rejected/NAME (under a free name)."""
        final = self._free(self.rejected_dir, item.name, len(REASON_SUFFIX))
        reason = one_line(item.reason, REASON_LIMIT) or "unusable"
        write_atomic(self.rejected_dir / (final + REASON_SUFFIX), (reason + "\n").encode())
        os.rename(item.where / item.name, self.rejected_dir / final)
        return final

    def sync(self) -> None:
        """Flush every directory's entries, so the moves of a batch survive a power cut."""
        sync_dirs(self.path, self.processing, self.done_dir, self.rejected_dir)

    @staticmethod
    def _free(where: Path, name: str, room: int) -> str:
        """`name`, or `stem-2.ext`, `stem-3.ext`...: the first not taken in `where`, fitting NAME_MAX less `room`."""
        stem, dot, ext = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
        n = 1
        while True:
            candidate = _fit(stem if n == 1 else f"{stem}-{n}", dot + ext, NAME_MAX - room)
            if not os.path.lexists(where / candidate):
                return candidate
            n += 1


def shown(name: str) -> str:
    """A file name as logs and messages show it: one printable line (a name may hold newlines or escapes)."""
    return one_line(name, NAME_MAX) or repr(name)


def _fit(stem: str, ext: str, limit: int) -> str:
    """`stem + ext` within `limit` bytes: a long stem is cut and given a digest of itself, so names stay apart."""
    name = stem + ext
    if len(os.fsencode(name)) <= limit:
        return name
    if len(os.fsencode(ext)) > limit // 2:  # an "extension" this long is part of the name
        stem, ext = name, ""
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    room = limit - len(os.fsencode(ext)) - len(digest) - 1
    cut = os.fsencode(stem)[: max(room, 1)]
    return os.fsdecode(cut) + "-" + digest + ext
