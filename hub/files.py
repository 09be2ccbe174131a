"""Bounded reads of the files an operator names: settings, keys, keyrings, policies, feeds.

A path may name anything: `/dev/zero`, a FIFO, a directory, a file of gigabytes. Each is read
here with a size cap fixed by what the file is for, and refused with one line naming the file and
the problem, before any of it is parsed.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from hub.errors import ConfigError, HubError

KIB = 1024
MIB = 1024 * KIB
BOM = codecs.BOM_UTF8  # editors on Windows start UTF-8 files with it; JSON (RFC 8259) and TOML readers may skip it


def read_limited(path: Path, limit: int, what: str, error: type[HubError] = ConfigError) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; `error` naming `what` otherwise."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore the flag.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(f"{what} {path} cannot be read: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{what} {path} is not a regular file")
        try:
            data = file.read(limit + 1)
        except OSError as exc:
            raise error(f"{what} {path} cannot be read: {exc.strerror}") from exc
    if len(data) > limit:
        raise error(f"{what} {path} is larger than {size_text(limit)}")
    return data


def read_text(path: Path, limit: int, what: str, error: type[HubError] = ConfigError) -> str:
    """`read_limited` decoded as UTF-8, a leading byte-order mark skipped; `error` when not UTF-8."""
    data = read_limited(path, limit, what, error)
    try:
        return data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text (byte {exc.start + 1})") from exc


def size_text(n: int) -> str:
    """A byte count as people write it: `64 MiB`, `256 KiB`, `1000 bytes`."""
    return f"{n // MIB} MiB" if n >= MIB and n % MIB == 0 else f"{n // KIB} KiB" if n % KIB == 0 else f"{n} bytes"
