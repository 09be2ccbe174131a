"""Bounded outputs: sized before they are recorded or sent, too-large deliveries rejected, fallbacks bounded."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime

import pytest

from hub.core.decide import Submitted
from hub.core.policy import ReleasePolicy
from hub.core.route import REJECTED, SID_HEADER, Output, fallback, route
from hub.core.sizes import BATCH_OVERHEAD, OutputLimits, raw_size
from hub.demo.scenario import BASE_TIME, envelope, misp_event
from hub.kafka.config import MAX_RECORD_BYTES, output_limits, zstd_size
from hub.ledger import Ledger
from hub.worker.batch import decide_batch

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


def out(value: bytes, topic: str = "nato.inbox") -> Output:
    return Output(topic, b"k", value, ((SID_HEADER, b"sid-1"),))


def test_the_raw_size_is_never_below_aiokafkas_estimate():
    from aiokafka.record.default_records import DefaultRecordBatchBuilder

    for n in (0, 10, 1000, 100_000):
        o = out(b"v" * n)
        assert raw_size(o) >= DefaultRecordBatchBuilder.estimate_size_in_bytes(o.key, o.value, list(o.headers))


def test_over_the_producer_limit_is_a_problem_naming_the_sizes():
    limits = OutputLimits(request_bytes=1000)
    assert limits.problem(out(b"x" * 100)) is None
    big = out(b"x" * 1000)
    assert limits.problem(big) == f"{raw_size(big):,} bytes, over the producer's limit of 1,000 bytes"


def test_the_topic_limit_is_checked_on_the_compressed_size():
    limits = OutputLimits(request_bytes=10_000_000, topic_bytes={"nato.inbox": 50_000}, compressed=zstd_size)
    compressible = out(b"a" * 200_000)
    assert limits.problem(compressible) is None  # 200 kB raw, a few hundred bytes with zstd
    noise = random.Random(1).randbytes(200_000)
    assert limits.problem(out(noise)).endswith("compressed, over nato.inbox's max.message.bytes of 50,000")
    assert limits.problem(out(noise, "eu.inbox")) is None  # the broker set no limit for that topic


def test_the_workers_limits_are_the_producers_and_the_brokers():
    limits = output_limits({"nato.inbox": 1_048_588})
    assert limits.request_bytes == MAX_RECORD_BYTES
    assert limits.limit("nato.inbox") == 1_048_588
    assert limits.limit("hub.rejected") == MAX_RECORD_BYTES


def test_a_fallback_keeps_the_summary_and_hashes_the_rest():
    value = b"\x00" * 5_000_000
    o = Output(
        REJECTED, None, value, ((SID_HEADER, b"sid-9"),), {"submission_id": "sid-9", "reason": "r" * 9000, "seq": 7}
    )
    f = fallback(o, "too large")
    body = json.loads(f.value)
    assert len(f.value) < 3000
    assert (body["submission_id"], body["seq"], len(body["reason"])) == ("sid-9", 7, 2000)
    assert body["omitted"] == {"bytes": 5_000_000, "sha256": hashlib.sha256(value).hexdigest(), "problem": "too large"}
    assert (f.topic, f.headers) == (o.topic, o.headers)
    assert json.loads(fallback(out(b"x"), "p").value)["submission_id"] == "sid-1"  # no summary: the sid header


def big_event(attributes: int, version: datetime) -> bytes:
    doc = envelope(random.Random(3), "misp_event", "EU", BASE_TIME, attributes=1)
    doc["payload"] = misp_event(random.Random(4), "CERT-EU", attributes, version)
    return json.dumps(doc).encode()


@pytest.fixture
def ledger(ledger_url):
    led = Ledger(ledger_url)
    yield led
    led.close()


def test_a_delivery_too_large_for_the_inbox_is_rejected_before_it_is_recorded(ledger):
    raw = big_event(400, datetime(2026, 6, 1, tzinfo=UTC))
    limits = OutputLimits(request_bytes=len(raw) // 2)
    [done] = decide_batch(ledger, [Submitted("s1", raw)], ReleasePolicy(), NOW, sizes=limits)
    assert (done.outcome.decision.value, done.outcome.rule) == ("rejected", "too-large")
    assert done.outcome.reason.startswith("the delivery to nato.inbox would be ")
    assert done.outcome.reason.endswith(f"over the producer's limit of {len(raw) // 2:,} bytes; it is not delivered")
    record = next(ledger.records())
    assert (record.decision, record.rule, record.kind, record.direction) == (
        "rejected",
        "too-large",
        "misp_event",
        "EU->NATO",
    )
    assert [o.topic for o in route(done.outcome, record.seq, record.as_json(), raw)] == ["hub.decisions", REJECTED]
    key = f"misp_event:{json.loads(raw)['payload']['Event']['uuid']}"
    assert ledger.seen([key]) == {}  # no dedupe state: it may come again
    [again] = decide_batch(ledger, [Submitted("s2", raw)], ReleasePolicy(), NOW, sizes=OutputLimits(len(raw) * 4))
    assert again.outcome.decision.value == "delivered"  # a new item for the dedupe state, not a duplicate


def test_a_delivery_that_fits_carries_the_bytes_it_was_sized_with(ledger):
    raw = big_event(5, datetime(2026, 6, 1, tzinfo=UTC))
    [done] = decide_batch(
        ledger, [Submitted("s1", raw)], ReleasePolicy(), NOW, sizes=OutputLimits(BATCH_OVERHEAD * 1000)
    )
    assert done.outcome.decision.value == "delivered"
    inbox = [o for o in route(done.outcome, 1, {}, raw) if o.topic == "nato.inbox"]
    assert [o.value for o in inbox] == [done.outcome.delivered_json]
