"""Reading submissions from a file or stdin: one JSON object, a JSON array, JSON lines, streamed.

The input is split into items as it is read, without being parsed: only brackets, quotes and
commas are looked at, so memory holds one item (at most MAX_SUBMISSION_BYTES) and one chunk, and
a gigabyte on stdin costs no more than its largest item. Each item is validated as soon as it is
complete, so the first bad one is named before the rest is read. A leading UTF-8 byte-order mark
is skipped (RFC 8259 allows it).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from hub.core.validate import MAX_SUBMISSION_BYTES, Invalid, validate
from hub.errors import InputError
from hub.files import BOM, MIB, size_text

CHUNK = 1 * MIB  # read at a time
MAX_DEPTH = 1000  # brackets open at once in one item; a MISP event uses fewer than ten
_OUTSIDE = re.compile(rb'[\[\]{}"]')  # what matters between strings
_INSIDE = re.compile(rb'["\\]')  # what ends a string, or escapes its next byte
_SCALAR_END = re.compile(rb"[\s,\]]")  # where a value that is not an object, array or string ends
_WS = b" \t\r\n"
_JSON_STARTS = [bytes([c]) for c in b'[{"-0123456789tfnNI']  # what a JSON value (or Python's NaN, Infinity) starts with


class _Splitter:
    """Items of one input, split by bracket depth, each within `limit` bytes."""

    def __init__(self, stream: BinaryIO, source: str, limit: int) -> None:
        self.stream, self.source, self.limit = stream, source, limit
        self.buf = bytearray()
        self.pos = 0
        self.eof = False
        self.number = 0  # the item being read, from 1

    def _more(self) -> bool:
        """Read one more chunk into the buffer; False at the end of the input."""
        if self.eof:
            return False
        try:
            data = self.stream.read(CHUNK)
        except OSError as exc:
            raise InputError(f"{self.source}: cannot read: {exc.strerror}") from exc
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _compact(self) -> None:
        """Drop what was consumed, once it is more than a chunk (amortised: each byte moves about once)."""
        if self.pos > CHUNK:
            del self.buf[: self.pos]
            self.pos = 0

    def _skip_ws(self) -> bool:
        """Move past whitespace; False at the end of the input."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.buf) or not self._more():
                return self.pos < len(self.buf)

    def _too_large(self, start: int, end: int) -> None:
        if end - start > self.limit:
            raise InputError(f"{self.source}: item {self.number} is larger than {size_text(self.limit)}")

    def _end_of_value(self, start: int) -> int:
        """Where the value starting at `start` ends (exclusive); the input's end if it never does."""
        first = bytes(self.buf[start : start + 1])
        if first not in _JSON_STARTS:
            shown = repr(first.decode()) if first.isascii() and first.decode().isprintable() else f"byte {first!r}"
            raise InputError(f"{self.source}: item {self.number} is not JSON: it starts with {shown}")
        if first not in (b"[", b"{", b'"'):
            return max(self._scan(start, _SCALAR_END), start + 1)
        depth, in_string, i = 0, False, start
        while True:
            found = (_INSIDE if in_string else _OUTSIDE).search(self.buf, i)
            if found is None or (in_string and self.buf[found.start()] == 0x5C and found.start() + 1 >= len(self.buf)):
                i = len(self.buf) if found is None else found.start()  # scanned up to here: never again
                self._too_large(start, len(self.buf))
                if not self._more():
                    return len(self.buf)
                continue
            c, i = self.buf[found.start()], found.start() + 1
            if in_string:
                in_string, i = (True, i + 1) if c == 0x5C else (False, i)  # 0x5C: a backslash escapes one byte
                if not in_string and depth == 0:
                    return i
            elif c == 0x22:  # a quote
                in_string = True
            elif c in b"[{":
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(f"{self.source}: item {self.number} is nested more than {MAX_DEPTH} deep")
            else:
                depth -= 1
                if depth <= 0:
                    return i
            self._too_large(start, i)

    def _scan(self, start: int, ends: re.Pattern[bytes]) -> int:
        while True:
            found = ends.search(self.buf, start)
            if found is not None:
                self._too_large(start, found.start())
                return found.start()
            self._too_large(start, len(self.buf))
            if not self._more():
                return len(self.buf)

    def _item(self) -> bytes:
        self.number += 1
        start = self.pos
        self.pos = self._end_of_value(start)
        return bytes(self.buf[start : self.pos])

    def items(self) -> Iterator[bytes]:
        """Every item: the elements of a top-level array, or each top-level value (JSON lines)."""
        if not self._skip_ws():
            raise InputError(f"{self.source}: empty input, nothing to publish")
        if self.buf.startswith(BOM):
            self.pos = len(BOM)
            if not self._skip_ws():
                raise InputError(f"{self.source}: empty input, nothing to publish")
        if self.buf[self.pos : self.pos + 1] == b"[":
            self.pos += 1
            yield from self._array()
            return
        while self._skip_ws():
            self._compact()
            yield self._item()

    def _array(self) -> Iterator[bytes]:
        if not self._skip_ws():
            raise InputError(f"{self.source}: the array is not closed")
        if self.buf[self.pos : self.pos + 1] == b"]":
            raise InputError(f"{self.source}: the array holds no items, nothing to publish")
        while True:
            self._compact()
            yield self._item()
            if not self._skip_ws():
                raise InputError(f"{self.source}: the array is not closed after item {self.number}")
            sep = self.buf[self.pos : self.pos + 1]
            self.pos += 1
            if sep == b"]":
                break
            if sep != b"," or not self._skip_ws() or self.buf[self.pos : self.pos + 1] == b"]":
                raise InputError(f"{self.source}: after item {self.number}: expected ',' and another item, or ']'")
        if self._skip_ws():
            raise InputError(f"{self.source}: after the array's ']': more data; give one array, or JSON lines")


def iter_items(source: str, limit: int = MAX_SUBMISSION_BYTES) -> Iterator[bytes]:
    """The raw items in `source` (a path or `-`), one bytes value per submission, read as they come."""
    if source == "-":
        yield from _Splitter(sys.stdin.buffer, source, limit).items()
        return
    try:
        stream = Path(source).open("rb")  # noqa: SIM115 - closed below, after the generator is done
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc.strerror}") from exc
    with stream:  # a pipe or a device is read like a file: every read is bounded anyway
        yield from _Splitter(stream, source, limit).items()


def read_items(source: str) -> list[bytes]:
    """Every raw item of `source`, for commands that look at a few (`hub policy explain`)."""
    return list(iter_items(source))


def checked_items(source: str) -> Iterator[bytes]:
    """The items of `source`, each validated as it is read; InputError naming the first bad one."""
    for number, raw in enumerate(iter_items(source), start=1):
        result = validate(raw)
        if isinstance(result, Invalid):
            raise InputError(result.problem, field=result.field, item=f"{source}: item {number}")
        yield raw
