"""Kafka record batches read before aiokafka reads them: refused whole when they cannot be read within a ceiling.

A fetched message set holds record batches. Before aiokafka sees one, `guard` checks it: the CRC,
the structure of every record (the lengths, offsets and header names aiokafka would trip on, so a
corrupt batch can no longer stop a consumer on every fetch), and the size it inflates to, read in
bounded steps (`hub.kafka.inflate`) without holding it. A batch that passes is left as it is; one
that does not is replaced by a placeholder: an uncompressed batch with the same base offset and
last offset holding one empty record at the last offset, so that aiokafka moves past all of them,
and the reason goes to the caller (`Refusal`), which decides that record as rejected. Records of
a compressed batch cannot be told apart without inflating it, so a batch is refused as one
submission.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from aiokafka.record.util import calc_crc32c

from hub.kafka.inflate import CODECS, CorruptBatch, TooLarge, chunks

HEADER = struct.Struct(">qiibIhiqqqhii")  # record batch v2: base offset ... records count (61 bytes)
LOG_OVERHEAD = 12  # base offset and length: the bytes the length does not count
MAGIC_AT = 16  # the magic byte's position in every message format (v0, v1 and v2 alike)
CRC_FROM = 21  # a v2 batch's CRC-32C covers its bytes from the attributes on
CONTROL = 0x20  # attribute bit of a transaction marker batch (aiokafka skips those)
CODEC_BITS = 0x07


@dataclass(frozen=True)
class Refusal:
    """A batch replaced by a placeholder: the placeholder record's offset and why the batch was refused."""

    offset: int
    reason: str
    rule: str  # `too-large` (inflates past the ceiling) or `unreadable` (corrupt, or a refused format)


class _Reader:
    """Bytes read from a sequence of chunks, of which only the current one is held."""

    def __init__(self, parts: Iterator[bytes]) -> None:
        self.parts = parts
        self.chunk = b""
        self.at = 0
        self.pos = 0  # bytes consumed in all

    def _more(self) -> bool:
        while self.at >= len(self.chunk):
            self.chunk = next(self.parts, b"")
            self.at = 0
            if not self.chunk:
                return False
        return True

    def read(self, n: int) -> bytes:
        """Exactly `n` bytes (header names and other small fields)."""
        out = bytearray()
        while len(out) < n:
            if not self._more():
                raise CorruptBatch("a record runs past the end of its batch")
            take = self.chunk[self.at : self.at + n - len(out)]
            out += take
            self.at += len(take)
        self.pos += n
        return bytes(out)

    def skip(self, n: int) -> None:
        """Move past `n` bytes without keeping them (keys and values)."""
        left = n
        while left:
            if not self._more():
                raise CorruptBatch("a record runs past the end of its batch")
            step = min(left, len(self.chunk) - self.at)
            self.at += step
            left -= step
        self.pos += n

    def varint(self) -> int:
        """A zigzag varint, as record fields are written."""
        value = shift = 0
        for _ in range(10):
            byte = self.read(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return (value >> 1) ^ -(value & 1)
            shift += 7
        raise CorruptBatch("a record holds a varint longer than 10 bytes")

    def at_end(self) -> bool:
        """True when every byte was read."""
        return not self._more()


def _record(r: _Reader, last_delta: int) -> None:
    """Read one v2 record's structure as aiokafka will, keeping no key or value."""
    length = r.varint()
    start = r.pos
    r.read(1)  # attributes
    r.varint()  # timestamp delta
    delta = r.varint()
    if not 0 <= delta <= last_delta:
        raise CorruptBatch(f"a record's offset delta {delta} is outside its batch (0 to {last_delta})")
    for _ in ("key", "value"):
        n = r.varint()
        if n < -1:
            raise CorruptBatch(f"a record's {_} length is {n}")
        r.skip(max(n, 0))
    headers = r.varint()
    if headers < 0:
        raise CorruptBatch(f"a record says it has {headers} headers")
    for _ in range(headers):
        n = r.varint()
        if n < 0:
            raise CorruptBatch("a header name has a negative length")
        try:
            r.read(n).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptBatch("a header name is not UTF-8") from exc
        m = r.varint()
        if m < -1:
            raise CorruptBatch("a header value has a negative length")
        r.skip(max(m, 0))
    if r.pos - start != length:
        raise CorruptBatch(f"a record says it is {length} bytes but holds {r.pos - start}")


def _check_v2(batch: bytes, ceiling: int) -> None:
    """CorruptBatch (TooLarge among them) unless the v2 batch reads within `ceiling` bytes of records."""
    if len(batch) < HEADER.size:
        raise CorruptBatch("a record batch is shorter than its header")
    *_, crc, attributes, last_delta, _, _, _, _, _, count = HEADER.unpack_from(batch)
    if calc_crc32c(bytes(batch[CRC_FROM:])) != crc:
        raise CorruptBatch("the batch's CRC does not match its bytes: it was altered or cut")
    if attributes & CONTROL:
        return  # a transaction marker: aiokafka reads its one small record itself
    codec = attributes & CODEC_BITS
    payload = bytes(batch[HEADER.size :])
    if not codec and len(payload) > ceiling:
        raise CorruptBatch(f"the batch holds {len(payload):,} bytes of records, over {ceiling:,}")
    reader = _Reader(chunks(codec, payload, ceiling) if codec else iter((payload,)))
    if count < 0 or count > last_delta + 1:
        raise CorruptBatch(f"the batch says it holds {count} records in {last_delta + 1} offsets")
    for _ in range(count):
        _record(reader, last_delta)
    if not reader.at_end():
        raise CorruptBatch("the batch holds bytes after its last record")


def _check_legacy(batch: bytes, ceiling: int) -> None:
    """CorruptBatch unless a v0/v1 message is uncompressed, within `ceiling`, and whole (CRC-32)."""
    magic, attributes = batch[MAGIC_AT], batch[MAGIC_AT + 1]
    if attributes & CODEC_BITS:
        codec = CODECS.get(attributes & CODEC_BITS, "unknown")
        raise CorruptBatch(f"a {codec}-compressed message of format v{magic} (Kafka < 0.11) is not accepted")
    if len(batch) - LOG_OVERHEAD > ceiling:
        raise CorruptBatch(f"the message is {len(batch):,} bytes, over {ceiling:,}")
    (crc,) = struct.unpack_from(">I", batch, LOG_OVERHEAD)
    if zlib.crc32(batch[MAGIC_AT:]) != crc:
        raise CorruptBatch("the message's CRC does not match its bytes: it was altered or cut")
    pos = MAGIC_AT + 2 + (8 if magic == 1 else 0)
    for _ in ("key", "value"):
        if pos + 4 > len(batch):
            raise CorruptBatch("the message is cut short")
        (n,) = struct.unpack_from(">i", batch, pos)
        pos += 4 + max(n, 0)
    if pos != len(batch):
        raise CorruptBatch("the message's key and value do not fill it")


def check(batch: bytes, ceiling: int) -> tuple[CorruptBatch | None, int]:
    """(why the batch cannot be read, or None; its last offset delta) for one whole batch."""
    magic = batch[MAGIC_AT]
    last_delta = HEADER.unpack_from(batch)[6] if magic == 2 and len(batch) >= HEADER.size else 0
    try:
        if magic == 2:
            _check_v2(batch, ceiling)
        elif magic in (0, 1):
            _check_legacy(batch, ceiling)
        else:
            raise CorruptBatch(f"unknown message format v{magic}")
    except CorruptBatch as exc:
        return exc, max(last_delta, 0)
    return None, last_delta


def placeholder(base_offset: int, last_delta: int, timestamp: int) -> bytes:
    """An uncompressed v2 batch for offsets base..base+last_delta holding one empty record at the last."""
    body = b"\x00" + _zigzag(0) + _zigzag(last_delta) + _zigzag(-1) + _zigzag(-1) + _zigzag(0)
    record = _zigzag(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, last_delta, timestamp, timestamp, -1, -1, -1, 1) + record
    head = struct.pack(">qiibI", base_offset, 4 + 1 + 4 + len(after_crc), -1, 2, calc_crc32c(after_crc))
    return head + after_crc


def _zigzag(n: int) -> bytes:
    value = (n << 1) ^ (n >> 63)
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def guard(message_set: bytes, ceiling: int) -> tuple[bytes, list[Refusal]]:
    """The message set with each batch that cannot be read within `ceiling` replaced; the refusals.

    A message set whose batches all pass comes back as the same object. A trailing partial batch
    (normal at the end of a fetch) is left as it is; aiokafka reads it on a later fetch.
    """
    parts: list[bytes] = []
    refusals: list[Refusal] = []
    pos = 0
    while pos + MAGIC_AT < len(message_set):
        base_offset, length = struct.unpack_from(">qi", message_set, pos)
        if length <= MAGIC_AT + 1 - LOG_OVERHEAD:  # no magic byte inside: nothing after it can be found either
            parts.append(placeholder(base_offset, 0, -1))
            refusals.append(Refusal(base_offset, f"a batch says it is {length} bytes long", "unreadable"))
            return b"".join(parts), refusals
        end = pos + LOG_OVERHEAD + length
        if end > len(message_set):
            break
        batch = message_set[pos:end]
        problem, last_delta = check(batch, ceiling)
        if problem is None:
            parts.append(batch)
        else:
            timestamp = HEADER.unpack_from(batch)[7] if len(batch) >= HEADER.size else -1
            parts.append(placeholder(base_offset, last_delta, timestamp))
            rule = "too-large" if isinstance(problem, TooLarge) else "unreadable"
            refusals.append(Refusal(base_offset + last_delta, f"record batch refused: {problem}", rule))
        pos = end
    if not refusals:
        return message_set, []
    return b"".join([*parts, message_set[pos:]]), refusals
