"""What a source cannot submit is recorded and passed: a message the broker refuses as too large is not
retried for minutes, the others of its batch are acknowledged, and progress moves past it."""

from __future__ import annotations

import os

import pytest

from connectors import Change
from connectors.misp.envelope import envelope
from connectors.misp.sync import pull
from connectors.refusals import RefusalLog
from hub.errors import Oversized
from hub.kafka.config import MAX_RECORD_BYTES
from hub.kafka.publisher import Publisher
from hub.ledger import Ledger
from hub.ledger.refusals import refusals
from hub.settings import KafkaSettings
from hub.worker.status import ConnectorHealth
from schemas.common import Side
from tests.conftest import read_topic

pytestmark = pytest.mark.broker
U = [f"5a3c2fcd-8328-42bb-a95e-4f4402de0b8{i}" for i in range(3)]


class ListSource:
    """A source of fixed changes (the Source protocol), remembering what it was told was done."""

    side = Side.EU

    def __init__(self, changes):
        self.items = changes
        self.marked: list[tuple[str, int]] = []
        self.passes = 0

    async def changes(self):
        for c in self.items:
            yield c

    def done(self, items):
        self.marked += [(i.key, i.version) for i in items]

    def passed(self):
        self.passes += 1

    async def close(self):
        pass


def event(uuid: str, info: str = "x") -> bytes:
    return envelope({"uuid": uuid, "info": info, "timestamp": "1000", "published": True}, Side.EU)


async def test_the_broker_refusing_a_message_as_too_large_is_not_retried(broker):
    kafka = KafkaSettings(bootstrap=broker.bootstrap)
    huge = event(U[1], os.urandom(MAX_RECORD_BYTES // 2).hex())  # incompressible, over the limit
    async with Publisher(kafka, broker.bootstrap) as pub:
        with pytest.raises(Oversized) as caught:
            await pub.publish([event(U[0]), huge, event(U[2])])
    assert caught.value.indexes == [1]
    assert pub.retries == 0
    assert len(await read_topic(broker.bootstrap, "hub.submitted", 2)) == 2


async def test_a_pull_records_an_oversized_event_and_moves_past_it(broker, tmp_path):
    kafka = KafkaSettings(bootstrap=broker.bootstrap)
    huge = event(U[1], os.urandom(MAX_RECORD_BYTES // 2).hex())
    source = ListSource([Change(U[0], 1000, event(U[0])), Change(U[1], 1001, huge), Change(U[2], 1002, event(U[2]))])
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    log = RefusalLog(url, "misp-rest-eu-test", "EU")
    health = ConnectorHealth("misp-rest-eu-test", "EU", "source")
    async with Publisher(kafka, broker.bootstrap) as pub:
        assert await pull(source, pub, log, health) == 2
    log.close()
    assert source.marked == [(U[0], 1000), (U[1], 1001), (U[2], 1002)]  # the refused one is passed too
    assert (source.passes, health.submitted, health.refused) == (1, 2, 1)
    ledger = Ledger(url)
    [refused] = list(refusals(ledger))
    ledger.close()
    assert (refused.role, refused.item, refused.version) == ("source", U[1], "1001")
    assert refused.reason == f"event {U[1]} ({len(huge):,} bytes) is larger than the broker accepts"
