"""The delivery store's consumer: every worker keeps both sides' hub-signed deliveries in the ledger's database.

It is always on (no `[[connectors]]` entry): the TAXII server and the inbox page serve what it
kept, and users expect what the hub delivered to be there whatever else is configured. It reads
`eu.inbox` and `nato.inbox` in its own consumer group (`<app_id>.store`, so several workers share
the partitions), takes in only what passes the sinks' gate (`connectors.inbox.InboxGate`: the hub's
signature for that side), turns each delivery into its STIX objects (`hub.stix`) and writes a batch
in one transaction before the offsets are committed (`connectors.misp.sync.deliver`). Anything else
on an inbox is refused, recorded in the refusals table, and passed. Writes are idempotent, so a
batch read again after a crash or a restart changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from connectors import Applied
from connectors.inbox import InboxGate
from connectors.misp.sync import deliver, inbox_consumer
from connectors.refusals import RefusalLog
from connectors.supervise import supervise
from hub.errors import Refused
from hub.ledger import Ledger
from hub.ledger.deliveries import Delivered, put
from hub.settings import Settings
from hub.stix.convert import stix_objects
from hub.worker.status import ConnectorHealth
from schemas.common import Side

log = logging.getLogger("hub.store")
BACKOFF_CAP_S = 30.0  # longest wait before the store's loop is tried again after a failure


def delivered(side: Side, envelope: dict[str, Any]) -> Delivered:
    """What the store keeps of one delivery; Refused when it has no identity to be kept under."""
    ids = [envelope.get(k) for k in ("kind", "source_id", "version", "content_hash")]
    if not all(isinstance(v, str) and v for v in ids):
        raise Refused("the delivery lacks `kind`, `source_id`, `version` or `content_hash`")
    try:
        objects = stix_objects(envelope)
    except Exception as exc:  # no STIX mapping (a MISP event misp-stix cannot convert): kept, served as nothing
        log.warning("delivery %s %s kept without STIX objects: %s", ids[0], ids[1], str(exc)[:300])
        objects = []
    kind, source_id, version, content_hash = (str(v) for v in ids)
    text = json.dumps(envelope, ensure_ascii=False)
    return Delivered(side.value, kind, source_id, version, content_hash, text, objects)


class StoreSink:
    """A sink that gathers one fetch's deliveries and writes them in one transaction on `flush`."""

    def __init__(self, ledger_url: str, side: Side) -> None:
        self.side = side
        self.ledger_url = ledger_url
        self.pending: list[Delivered] = []
        self._ledger: Ledger | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"store-{side.value.lower()}")

    async def apply(self, envelope: dict[str, Any]) -> Applied:
        """Take one delivery (made durable by `flush`)."""
        self.pending.append(await asyncio.to_thread(delivered, self.side, envelope))
        return Applied.ADDED

    def _write(self, items: list[Delivered]) -> int:
        if self._ledger is None:
            self._ledger = Ledger(self.ledger_url)
        return put(self._ledger, items, datetime.now(UTC))

    async def flush(self) -> None:
        """Write what was taken since the last flush."""
        items, self.pending = self.pending, []
        if items:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._write, items)

    async def check(self) -> None:
        """The store is the hub's own database: a failure there is never one delivery's."""

    async def close(self) -> None:
        """Close the database connection and the thread."""
        if self._ledger is not None:
            ledger, self._ledger = self._ledger, None
            await asyncio.get_running_loop().run_in_executor(self._thread, ledger.close)
        self._thread.shutdown(wait=False)


async def run_store(settings: Settings, bootstrap: str, side: Side, health: ConnectorHealth, once: bool = False) -> int:
    """Keep `side`'s deliveries (until caught up with `once`); returns how many were taken."""
    sink = StoreSink(settings.ledger, side)
    name = f"store-{side.value.lower()}"
    refusals = RefusalLog(settings.ledger, name, side.value)
    consumer = inbox_consumer(settings.kafka, bootstrap, side.value, f"{settings.app_id}.store")
    try:
        counts = await deliver(sink, consumer, InboxGate(settings.keyring, side), refusals, health, once)
    finally:
        await sink.close()
        refusals.close()
    return counts[Applied.ADDED]


class DeliveryStore:
    """The always-on store consumer `hub up` runs: one supervised loop per side."""

    def __init__(self, settings: Settings, bootstrap: str) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.name = "delivery-store"
        self.health = ConnectorHealth(self.name, "both", "sink")

    async def run(self) -> None:
        """Keep both sides' deliveries until cancelled."""
        await asyncio.gather(*(supervise(f"{self.name} {s.value}", self._loop(s), self.health, BACKOFF_CAP_S)
                               for s in Side))  # fmt: skip

    def _loop(self, side: Side) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await run_store(self.settings, self.bootstrap, side, self.health)

        return run
