"""A spool file for `hub publish`: validated items kept on disk until every one is known good.

`hub publish` sends nothing when any item is bad, and it reads its input once (stdin cannot be
read twice), so the items wait here, length-prefixed in an anonymous temporary file, instead of
in memory: a gigabyte of input costs a gigabyte of disk, not of RAM.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterator
from types import TracebackType

BATCH_ITEMS = 500  # submissions per acknowledged publish
BATCH_BYTES = 32 * 1024 * 1024  # ... or fewer, so a run of large items is not all in memory at once
_LENGTH = struct.Struct(">Q")


class Spool:
    """Items appended, then read back in batches; use as a context manager (the file is removed)."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="hub-publish-")  # noqa: SIM115 - closed in __exit__
        self.count = 0

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.file.close()

    def add(self, raw: bytes) -> None:
        """Keep one item."""
        self.file.write(_LENGTH.pack(len(raw)))
        self.file.write(raw)
        self.count += 1

    def batches(self) -> Iterator[list[bytes]]:
        """The items in order, in batches of at most BATCH_ITEMS and about BATCH_BYTES."""
        self.file.flush()
        self.file.seek(0)
        batch: list[bytes] = []
        size = 0
        for _ in range(self.count):
            (length,) = _LENGTH.unpack(self.file.read(_LENGTH.size))
            batch.append(self.file.read(length))
            size += length
            if len(batch) >= BATCH_ITEMS or size >= BATCH_BYTES:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch
