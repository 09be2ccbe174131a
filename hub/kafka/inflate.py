"""Decompressing a Kafka record batch in bounded steps, for every codec Kafka allows.

aiokafka inflates a compressed batch whole (`DefaultRecordBatch._maybe_uncompress`: the codec's
output, a `bytes` copy, then a `bytearray` copy) before it reads the first record, so a few KiB
of zstd can ask for gigabytes. `chunks` yields a batch's inflated bytes at most `STEP` at a time
and keeps nothing, so the caller can read the records' sizes and stop at a ceiling before anyone
holds them. Codecs: gzip (zlib), snappy (Kafka's xerial framing or a raw block; a block's length
preamble is checked before it is inflated), lz4 (frames), zstd (frames, `backports.zstd`).

A batch that inflates more than `MAX_RATIO` times its compressed size is a decompression bomb and
is refused as soon as that shows (after `RATIO_FLOOR` bytes), whatever the ceiling: otherwise an
unsigned 2 KB message inflating to 60 MiB, under the ceiling, costs the worker ~0.3 s of inflating,
copying and hashing before its missing signature can refuse it, and a few per second stall every
good item behind them. Real content is far from the limit: MISP events compress 2-10x with zstd
(a random UUID per attribute), 10x at most at zstd's highest level for 100,000 attributes of one
value; text and JSON envelopes 2-5x.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Protocol

import cramjam
import lz4.frame
from backports import zstd

STEP = 1024 * 1024  # inflated bytes per step: small beside the batch ceiling, large enough to be fast
GZIP, SNAPPY, LZ4, ZSTD = 1, 2, 3, 4  # Kafka's codec ids (batch attributes, bits 0-2)
CODECS = {GZIP: "gzip", SNAPPY: "snappy", LZ4: "lz4", ZSTD: "zstd"}
XERIAL_MAGIC = b"\x82SNAPPY\x00"  # Kafka's Java client frames snappy this way
XERIAL_HEADER = 16  # magic, version, compatible version
MAX_RATIO = 100  # inflated / compressed: 10x the most repetitive real MISP event; under lz4 and gzip maxima (255, 1032)
RATIO_FLOOR = 1024 * 1024  # small batches may inflate as they like: they cost nothing


class CorruptBatch(Exception):  # noqa: N818 - a verdict on input, caught where the batch is read
    """A batch that cannot be read as its header says: the reason is recorded with its refusal."""


class _Stream(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


def _new(codec: int) -> _Stream:
    if codec == GZIP:
        return _Zlib()
    if codec == LZ4:
        return lz4.frame.LZ4FrameDecompressor()  # type: ignore[no-any-return]
    return zstd.ZstdDecompressor()


class _Zlib:
    """zlib's decompressor with the stream interface of the others (gzip members, one after another)."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def needs_input(self) -> bool:
        return not self._d.unconsumed_tail

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        return self._d.decompress(data or self._d.unconsumed_tail, max(max_length, 0))


class TooLarge(CorruptBatch):
    """A batch that inflates beyond the ceiling it was read with, or beyond `MAX_RATIO` times its size."""


def chunks(codec: int, payload: bytes, ceiling: int) -> Iterator[bytes]:
    """The inflated bytes of `payload`, at most STEP at a time; TooLarge once they pass `ceiling` or the ratio.

    CorruptBatch if the data does not decompress. Nothing is kept between steps.
    """
    if codec not in CODECS:
        raise CorruptBatch(f"unknown compression codec {codec}")
    total = 0
    bomb = max(RATIO_FLOOR, len(payload) * MAX_RATIO)
    try:
        for out in _snappy(payload, ceiling) if codec == SNAPPY else _frames(codec, payload):
            total += len(out)
            if total > ceiling:
                raise TooLarge(f"{CODECS[codec]} data inflates beyond {ceiling:,} bytes")
            if total > bomb:
                raise TooLarge(
                    f"{CODECS[codec]} data inflates more than {MAX_RATIO:,} times its {len(payload):,} bytes: "
                    "a decompression bomb"
                )
            yield out
    except CorruptBatch:
        raise
    except Exception as exc:  # noqa: BLE001 - every codec has its own errors; all mean "not what it claims"
        raise CorruptBatch(f"{CODECS[codec]} data does not decompress: {exc}") from exc


def _frames(codec: int, data: bytes) -> Iterator[bytes]:
    """Frames (or gzip members) one after another, each inflated in steps."""
    while data:
        stream = _new(codec)
        pending = data
        while not stream.eof:
            out = stream.decompress(pending, max_length=STEP)
            pending = b""
            if out:
                yield out
            elif stream.needs_input and not stream.eof:
                raise CorruptBatch(f"{CODECS[codec]} data ends before its frame does")
        data = stream.unused_data


def _snappy(payload: bytes, ceiling: int) -> Iterator[bytes]:
    """Snappy blocks, each inflated only once its length preamble keeps the total under `ceiling`."""
    blocks = [payload] if not payload.startswith(XERIAL_MAGIC) else _xerial(payload)
    announced = 0
    for block in blocks:
        size = _uvarint(block)
        announced += size
        if announced > ceiling:
            raise TooLarge(f"snappy data inflates beyond {ceiling:,} bytes")
        data = bytes(cramjam.snappy.decompress_raw(block))
        if len(data) != size:
            raise CorruptBatch("snappy block inflates to another size than its preamble says")
        for i in range(0, len(data), STEP):
            yield data[i : i + STEP]


def _xerial(payload: bytes) -> list[bytes]:
    """The raw blocks of Kafka's xerial snappy framing."""
    blocks, pos = [], XERIAL_HEADER
    while pos < len(payload):
        if pos + 4 > len(payload):
            raise CorruptBatch("snappy (xerial) chunk header is cut short")
        (length,) = struct.unpack_from(">i", payload, pos)
        if length < 0 or pos + 4 + length > len(payload):
            raise CorruptBatch("snappy (xerial) chunk runs past the batch")
        blocks.append(payload[pos + 4 : pos + 4 + length])
        pos += 4 + length
    return blocks


def _uvarint(data: bytes) -> int:
    """The unsigned LEB128 varint at the start of `data` (a snappy block's inflated length)."""
    value = shift = 0
    for byte in data[:10]:
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
        shift += 7
    raise CorruptBatch("snappy block has no valid length preamble")
