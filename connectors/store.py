"""The delivery store's consumer: every worker keeps both sides' hub-signed deliveries in the ledger's database.

It is on by default (no `[[connectors]]` entry; `HUB_STORE=false` turns it off): the TAXII server
and the inbox page serve what it kept, and users expect what the hub delivered to be there whatever
else is configured. It reads
`eu.inbox` and `nato.inbox` in its own consumer group (`<app_id>.store`, so several workers share
the partitions), takes in only what passes the sinks' gate (`connectors.inbox.InboxGate`: the hub's
signature for that side), turns each delivery into its STIX objects (`hub.stix`) and writes a batch
in one transaction before the offsets are committed (`connectors.misp.sync.deliver`). Anything else
on an inbox is refused, logged and counted, and passed (the sinks record such messages in the
refusals table: the store is not a destination). Writes are idempotent, so a batch read again
after a crash or a restart changes nothing. A delivery larger than STIX_MAX_BYTES is kept without
STIX objects, so a huge MISP event never holds the worker in misp-stix.
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
from hub.ledger.refusals import Refusal
from hub.settings import Settings
from hub.stix.convert import stix_objects
from hub.worker.status import ConnectorHealth
from schemas.common import Side

log = logging.getLogger("hub.store")
BACKOFF_CAP_S = 30.0  # longest wait before the store's loop is tried again after a failure
STIX_MAX_BYTES = 4 * 1024 * 1024  # larger deliveries (MISP events of tens of thousands of attributes) are kept
# without STIX objects: misp-stix would hold the worker's CPU for minutes and its memory near the 1 GiB it must
# stay under; they stay in the store and the inbox page, and cross through the MISP connectors
PENDING_BYTES = 32 * 1024 * 1024  # a fetch's deliveries are written once they hold this much, not all at the end


def delivered(side: Side, envelope: dict[str, Any]) -> Delivered:
    """What the store keeps of one delivery; Refused when it has no identity to be kept under."""
    ids = [envelope.get(k) for k in ("kind", "source_id", "version", "content_hash")]
    if not all(isinstance(v, str) and v for v in ids):
        raise Refused("the delivery lacks `kind`, `source_id`, `version` or `content_hash`")
    text = json.dumps(envelope, ensure_ascii=False)
    objects: list[dict[str, Any]] = []
    if len(text) > STIX_MAX_BYTES:
        log.warning("delivery %s %s (%d bytes) kept without STIX objects: larger than %d bytes", ids[0], ids[1],
                    len(text), STIX_MAX_BYTES)  # fmt: skip
    else:
        try:
            objects = stix_objects(envelope)
        except Exception as exc:  # no STIX mapping (a MISP event misp-stix cannot convert): kept, served as nothing
            log.warning("delivery %s %s kept without STIX objects: %s", ids[0], ids[1], str(exc)[:300])
    kind, source_id, version, content_hash = (str(v) for v in ids)
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
        """Take one delivery (made durable by `flush`, or at once when the fetch's deliveries grew large)."""
        self.pending.append(await asyncio.to_thread(delivered, self.side, envelope))
        if sum(len(d.envelope) for d in self.pending) >= PENDING_BYTES:
            await self.flush()
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


class LoggedRefusals(RefusalLog):
    """What the store refuses is logged and counted, not recorded: the refusals table is the destinations' (a
    forged inbox message is recorded there by each sink that meets it)."""

    async def record(self, role: str, reason: str, item: str | None = None, version: str | None = None,
                     submission_id: str | None = None, location: str | None = None) -> Refusal:  # fmt: skip
        """Log one refusal; returns it, unrecorded."""
        refusal = Refusal.of(connector=self.connector, side=self.side, role=role, item=item, version=version,
                             submission_id=submission_id, location=location, reason=reason)  # fmt: skip
        log.warning("%s: not kept: %s (%s)", self.connector, refusal.reason, location or submission_id or "?")
        return refusal


async def run_store(settings: Settings, bootstrap: str, side: Side, health: ConnectorHealth, once: bool = False) -> int:
    """Keep `side`'s deliveries (until caught up with `once`); returns how many were taken."""
    sink = StoreSink(settings.ledger, side)
    name = f"store-{side.value.lower()}"
    refusals = LoggedRefusals(settings.ledger, name, side.value)
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
