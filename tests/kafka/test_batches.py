"""Fetched record batches checked before aiokafka reads them: every codec, bombs, corrupt and legacy forms."""

from __future__ import annotations

import json
import random
import struct
import uuid
import zlib

import cramjam
import lz4.frame
import pytest
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.record.util import calc_crc32c
from backports import zstd

from hub.kafka.batches import guard, placeholder
from hub.kafka.inflate import GZIP, LZ4, SNAPPY, XERIAL_MAGIC, ZSTD, TooLarge, chunks

MIB = 1024 * 1024
CEILING = 8 * MIB
CODECS = [0, GZIP, SNAPPY, LZ4, ZSTD]


def batch(codec: int, values: list[bytes], base: int = 0) -> bytes:
    """A v2 record batch as aiokafka's producer writes it, at `base`."""
    b = DefaultRecordBatchBuilder(
        magic=2, compression_type=codec, is_transactional=0, producer_id=-1, producer_epoch=-1,
        base_sequence=-1, batch_size=1 << 30,
    )  # fmt: skip
    for i, v in enumerate(values):
        b.append(i, timestamp=1_000, key=b"k", value=v, headers=[("hub-sid", b"s%d" % (base + i))])
    out = bytearray(b.build())
    out[0:8] = base.to_bytes(8, "big")
    return bytes(out)


def read(message_set: bytes) -> list[tuple[int, int | None]]:
    """(offset, value length) of every record aiokafka reads from the message set."""
    found, records = [], MemoryRecords(message_set)
    while records.has_next():
        b = records.next_batch()
        assert b.validate_crc()
        found += [(r.offset, None if r.value is None else len(r.value)) for r in b]
    return found


def with_payload(good: bytes, payload: bytes, codec: int) -> bytes:
    """`good`'s header around another compressed payload, lengths and CRC made right (a producer's forgery)."""
    head = bytearray(good[:61])
    struct.pack_into(">i", head, 8, 61 - 12 + len(payload))
    struct.pack_into(">h", head, 21, codec)
    body = bytes(head[21:]) + payload
    struct.pack_into(">I", head, 17, calc_crc32c(body))
    return bytes(head[:21]) + body


@pytest.mark.parametrize("codec", CODECS)
def test_readable_batches_pass_unchanged(codec):
    ms = batch(codec, [b"x" * 1000] * 3) + batch(codec, [b"y" * 100], base=3)
    out, refusals = guard(ms, CEILING)
    assert out is ms
    assert refusals == []
    assert read(out) == [(0, 1000), (1, 1000), (2, 1000), (3, 100)]


@pytest.mark.parametrize("codec", [GZIP, SNAPPY, LZ4, ZSTD])
def test_a_bomb_is_refused_whole_and_its_neighbours_pass(codec):
    noise = random.Random(codec).randbytes(CEILING // 2 + 1)  # incompressible: past the ceiling, not the ratio
    ms = batch(codec, [b"a"], 0) + batch(codec, [noise] * 2, 1) + batch(codec, [b"c"], 3)
    out, refusals = guard(ms, CEILING)
    assert [(r.offset, r.rule) for r in refusals] == [(2, "too-large")]
    assert refusals[0].reason.startswith("record batch refused: ")
    assert "inflates beyond 8,388,608 bytes" in refusals[0].reason
    assert read(out) == [(0, 1), (2, None), (3, 1)]  # the placeholder covers offsets 1-2, at the last one


@pytest.mark.parametrize("codec", [GZIP, LZ4, ZSTD])  # snappy cannot inflate 1,000-fold: its copies are short
def test_a_bomb_under_the_ceiling_is_refused_by_its_ratio(codec):
    ms = batch(codec, [b"a"], 0) + batch(codec, [b"A" * (CEILING // 2)], 1) + batch(codec, [b"c"], 2)
    out, refusals = guard(ms, CEILING)
    assert [(r.offset, r.rule) for r in refusals] == [(1, "too-large")]
    assert "inflates more than 100 times its" in refusals[0].reason
    assert refusals[0].reason.endswith("bytes: a decompression bomb")
    assert read(out) == [(0, 1), (1, None), (2, 1)]


@pytest.mark.parametrize("codec", CODECS[1:])
def test_the_most_repetitive_real_misp_event_is_far_from_the_ratio(codec):
    attribute = {"type": "ip-dst", "category": "Network activity", "value": "10.0.0.1", "to_ids": True}
    rows = [{**attribute, "uuid": str(uuid.UUID(int=random.Random(i).getrandbits(128)))} for i in range(20_000)]
    event = json.dumps({"Event": {"info": "one value, 20,000 times", "Attribute": rows}}).encode()  # ~2.4 MB
    out, refusals = guard(batch(codec, [event]), CEILING)
    assert refusals == []
    assert read(out) == [(0, len(event))]


def test_many_bombs_in_one_batch_cost_one_ceiling():
    bomb = batch(ZSTD, [b"\x00" * (60 * MIB)] * 16)  # 960 MiB inflated: as many as one builder takes
    assert len(bomb) < 100_000  # a few KB per 60 MiB on the wire
    out, refusals = guard(bomb, CEILING)
    assert [(r.offset, r.rule) for r in refusals] == [(15, "too-large")]
    assert read(out) == [(15, None)]


@pytest.mark.parametrize(
    ("codec", "compress"),
    [
        (ZSTD, lambda raw: zstd.compress(raw)),
        (LZ4, lambda raw: lz4.frame.compress(raw)),
        (GZIP, lambda raw: zlib.compress(raw, wbits=31)),
        (SNAPPY, lambda raw: bytes(cramjam.snappy.compress_raw(raw))),
    ],
)
def test_the_inflated_size_is_bounded_in_steps_for_every_codec(codec, compress):
    payload = compress(b"\x00" * (3 * CEILING))
    seen: list[int] = []

    def inflate() -> None:
        for part in chunks(codec, payload, CEILING):
            seen.append(len(part))

    with pytest.raises(TooLarge):
        inflate()
    assert max(seen, default=0) <= MIB  # snappy: refused by its preamble before any inflating
    assert sum(seen) <= CEILING


def test_zstd_frames_without_a_content_size_are_bounded_too():
    stream = zstd.ZstdCompressor()
    payload = stream.compress(b"\x00" * (2 * CEILING)) + stream.flush()  # streamed: no size in the header
    with pytest.raises(TooLarge):
        for _ in chunks(ZSTD, payload, CEILING):
            pass


def test_xerial_snappy_is_checked_by_its_preambles():
    block = bytes(cramjam.snappy.compress_raw(b"\x00" * (CEILING // 2 + 1)))
    framed = XERIAL_MAGIC + b"\x00\x00\x00\x01\x00\x00\x00\x01" + (struct.pack(">i", len(block)) + block) * 2
    with pytest.raises(TooLarge):
        for _ in chunks(SNAPPY, framed, CEILING):
            pass
    one = XERIAL_MAGIC + b"\x00\x00\x00\x01\x00\x00\x00\x01" + struct.pack(">i", len(block)) + block
    assert sum(len(p) for p in chunks(SNAPPY, one, CEILING)) == CEILING // 2 + 1


@pytest.mark.parametrize(
    ("forge", "problem"),
    [
        (lambda g: g[:-3] + b"\xff\xff\xff", "CRC does not match"),
        (lambda g: with_payload(g, zstd.compress(b"not records at all"), ZSTD), "outside its batch"),
        (lambda g: with_payload(g, b"\x28\xb5\x2f\xfd garbage", ZSTD), "does not decompress"),
        (lambda g: with_payload(g, zstd.compress(b"x" * 100)[:-4], ZSTD), "zstd"),
        (lambda g: with_payload(g, zlib.compress(b"\x02" * 30, wbits=31), GZIP), ""),
        (lambda g: with_payload(g, b"", 7), "unknown compression codec 7"),
    ],
)
def test_corrupt_batches_are_refused_not_raised(forge, problem):
    good = batch(ZSTD, [b"v" * 50])
    out, refusals = guard(forge(good) + batch(0, [b"next"], base=1), CEILING)
    assert [(r.offset, r.rule) for r in refusals] == [(0, "unreadable")]
    assert problem in refusals[0].reason
    assert read(out) == [(0, None), (1, 4)]  # aiokafka reads every byte that is left without an error


def test_a_record_structure_aiokafka_would_trip_on_is_refused():
    good = bytearray(batch(0, [b"v" * 50]))
    good[61 + 1 + 1 + 1 + 1] = 0x7E  # the key length: now far past the record
    struct.pack_into(">I", good, 17, calc_crc32c(bytes(good[21:])))
    out, refusals = guard(bytes(good), CEILING)
    assert refusals[0].rule == "unreadable"
    assert read(out) == [(0, None)]


def test_a_compressed_legacy_message_is_refused():
    value = zlib.compress(b"inner", wbits=31)
    body = struct.pack(">bbii", 0, GZIP, -1, len(value)) + value
    legacy = struct.pack(">qiI", 5, 4 + len(body), zlib.crc32(body)) + body
    out, refusals = guard(legacy + batch(0, [b"after"], base=6), CEILING)
    assert [(r.offset, r.rule) for r in refusals] == [(5, "unreadable")]
    assert "format v0" in refusals[0].reason
    assert read(out) == [(5, None), (6, 5)]


def test_a_partial_trailing_batch_is_left_for_the_next_fetch():
    whole = batch(ZSTD, [b"\x00" * (CEILING + 1)], 0)
    tail = batch(0, [b"z"], 1)[:30]
    out, refusals = guard(whole + tail, CEILING)
    assert [r.offset for r in refusals] == [0]
    assert out.endswith(tail)
    assert read(out) == [(0, None)]


def test_a_placeholder_covers_the_batchs_offsets():
    out = placeholder(100, 9, 1_000)
    assert read(out) == [(109, None)]
    assert MemoryRecords(out).next_batch().next_offset == 110
