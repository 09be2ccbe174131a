"""Writing a file so that a reader sees all of it or nothing, and it is on disk when this returns.

A file is written under a hidden temporary name in its own directory (`.hub-….tmp`, a name the
drop-directory convention tells readers to ignore), flushed to disk, then renamed to its name; the
directory is flushed by `sync_dirs` once a batch of renames is done. A temporary file left by a
crash is removed by `remove_stale` when its directory is opened again.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path

TEMP_PREFIX, TEMP_SUFFIX = ".hub-", ".tmp"
FILE_MODE = 0o640  # owner writes, the directory's group reads (an analysts' group); the umask applies on top
STALE_TMP_S = 600.0  # a temporary file this old belongs to a writer that died: writing 64 MiB takes seconds


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory, flushed, then renamed."""
    tmp = path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sync_dirs(*dirs: Path) -> None:
    """Flush the directories' entries (renames, new files) to disk."""
    for d in dirs:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale(directory: Path) -> int:
    """Remove this module's temporary files older than STALE_TMP_S from `directory`; returns how many."""
    removed = 0
    now = time.time()
    with os.scandir(directory) as entries:
        for entry in entries:
            if not (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX)):
                continue
            with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove: left alone
                if (
                    entry.is_file(follow_symlinks=False)
                    and now - entry.stat(follow_symlinks=False).st_mtime > STALE_TMP_S
                ):
                    os.unlink(entry.path)
                    removed += 1
    return removed
