"""The hub worker: a Faust app whose engine reads `hub.submitted` in batches, calls the core, and sends.

Two engines share `HubWorker.decide`: the batch engine (`hub/engine.py`, the default: aiokafka's
`getmany` inside the Faust worker) and a Faust agent (`pipeline.engine = "faust"`). Either way,
offsets are acknowledged only after a batch's decisions are committed to the ledger and every
output was acknowledged by the broker, so a crash replays only batches decided in its last moments,
and the ledger's unique submission ids keep the replay from being counted twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import faust

from hub.engine import PRODUCER_BATCH_BYTES, PRODUCER_LINGER_MS, BatchEngine
from hub.kafka import COMPRESSION, MAX_MESSAGE_BYTES, MAX_RECORD_BYTES, faust_credentials
from hub.keys import Keyring
from hub.ledger import Ledger
from hub.pipeline import Submitted, decide_batch
from hub.policy import ReleasePolicy
from hub.policy_file import policy_for
from hub.route import SUBMITTED, Output, route
from hub.settings import Settings
from hub.signing import Trust
from hub.transport import SCHEME

log = logging.getLogger("hub.worker")
ENGINES = {
    "batch": "batch (aiokafka getmany; consumer group {app_id}.batch)",
    "faust": "faust (a Faust agent; consumer group {app_id})",
}
PROGRESS_EVERY_S = 10.0  # how often the worker logs its throughput


def release_policy(settings: Settings) -> ReleasePolicy:
    """The release policy in force: the policy file or the built-in one, with the settings' recipients."""
    return policy_for(settings)


def trust(settings: Settings) -> Trust:
    """The signature check: the keyring the settings name, and whether signing is required."""
    keyring = Keyring.load(settings.keyring)
    if not keyring.keys and settings.signing.required:
        log.warning(
            "keyring %s holds no keys: every submission will be rejected as unsigned or unknown-key", settings.keyring
        )
    return Trust(keyring, settings.signing.required)


def warm_up() -> None:
    """Load what the first batch would otherwise pay for: galaxies, taxonomies, PyMISP."""
    from hub.scenario import BASE_TIME, misp_event
    from hub.tag import disarm_techniques, unknown_taxonomy_tags
    from schemas.misp_event import MispEvent

    disarm_techniques()
    unknown_taxonomy_tags(("tlp:clear",))
    MispEvent.model_validate(misp_event(random.Random(0), "warm-up", 1, BASE_TIME))  # noqa: S311 - test data


class HubWorker:
    """The Faust app and what its agent needs: the ledger, the policy, the output topics."""

    def __init__(self, settings: Settings, bootstrap: str) -> None:
        self.settings = settings
        k = settings.kafka
        (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
        self.app = faust.App(
            settings.app_id,
            # The short-fetch transport matters only when Faust consumes hub.submitted (engine "faust");
            # with the batch engine Faust's consumer reads nothing but its assignor topic.
            broker=[
                f"{SCHEME if settings.pipeline.engine == 'faust' else 'kafka'}://{b}" for b in bootstrap.split(",")
            ],
            broker_credentials=faust_credentials(k),
            store="memory://",
            web_enabled=False,
            datadir=str(settings.data_dir / "faust"),
            broker_session_timeout=k.session_timeout,
            broker_heartbeat_interval=max(0.1, k.session_timeout / 6),
            broker_rebalance_timeout=max(2.0, k.session_timeout),
            broker_commit_interval=0.5,
            producer_acks=-1,
            producer_max_request_size=MAX_RECORD_BYTES,
            producer_compression_type=COMPRESSION,
            producer_max_batch_size=PRODUCER_BATCH_BYTES,
            producer_linger_ms=PRODUCER_LINGER_MS,
            consumer_auto_offset_reset="earliest",
            consumer_max_fetch_size=MAX_MESSAGE_BYTES,
            stream_buffer_maxsize=4 * settings.pipeline.batch_size,
            topic_partitions=k.partitions,
            topic_replication_factor=k.replication_factor,
        )
        self.ledger = Ledger(settings.ledger)
        self.policy = release_policy(settings)
        self.trust = trust(settings)
        self.db = ThreadPoolExecutor(1, thread_name_prefix="ledger")  # the ledger connection's one thread
        # Output topics need no Faust declaration: `ensure_topics` creates every hub topic before the
        # worker starts, and outputs go straight to the producer (see `send`).
        self.decided = 0
        self._progress = (time.monotonic(), 0)
        self._warmed = False
        log.info("engine: %s", ENGINES[settings.pipeline.engine].format(app_id=settings.app_id))
        if settings.pipeline.engine == "batch":
            # A dependency starts with the app, so its group join overlaps Faust's own start-up (a
            # service added with `app.service` would start after it: 4.3 s to ready instead of 2.0 s).
            self.app.add_dependency(BatchEngine(self, bootstrap, loop=self.app.loop, beacon=self.app.beacon))
        else:
            submitted = self.app.topic(
                SUBMITTED,
                partitions=k.partitions,
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
            )
            self.app.agent(submitted, name="hub.process")(self.process)
            self.app.on_partitions_assigned.connect(self._assigned)
        if settings.connectors:  # MISP connectors declared in the config run as tasks of this worker
            from connectors.misp.service import start_connectors

            start_connectors(self.app, settings, bootstrap)

    def on_assigned(self, partitions: list[int]) -> None:
        """Partitions of `hub.submitted` arrived: say so (the ready mark) and warm up once."""
        log.info("ready: processing %s, partitions %s", SUBMITTED, partitions)
        self._progress = (time.monotonic(), self.decided)  # the rate logged counts from here, not from start-up
        if not self._warmed:  # after the group formed: warming during the join slowed start-up ~1.8 s
            self._warmed = True
            self.db.submit(warm_up)  # the first batch queues behind it in the ledger's thread

    async def _assigned(self, sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        assigned = kwargs.get("assigned", args[0] if args else set())
        self.on_assigned(sorted(tp.partition for tp in assigned))

    def _decide(self, batch: list[Submitted]) -> tuple[list[Output], int]:
        done = decide_batch(self.ledger, batch, self.policy, datetime.now(UTC), self.trust)
        outputs = [o for item, d in zip(batch, done, strict=True) for o in route(d.outcome, d.record, item.value)]
        return outputs, sum(not d.replayed for d in done)

    async def decide(self, batch: list[Submitted]) -> list[Output]:
        """Decide and record `batch` in the ledger's thread; the outputs to send. Logs progress."""
        outputs, fresh = await asyncio.get_running_loop().run_in_executor(self.db, self._decide, batch)
        self.decided += fresh
        last, last_count = self._progress
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            log.info(
                "decided %d submissions (%.0f/s)", self.decided, (self.decided - last_count) / (time.monotonic() - last)
            )
            self._progress = (time.monotonic(), self.decided)
        return outputs

    async def process(self, stream: Any) -> None:
        """The Faust agent (`pipeline.engine = "faust"`): batches in, decided, outputs acknowledged, acked."""
        p = self.settings.pipeline
        async for events in stream.take_events(p.batch_size, within=p.batch_within_s):
            batch = [Submitted.of(e.message.headers, e.message.partition, e.message.offset, e.value) for e in events]
            await self.send(await self.decide(batch))

    async def send(self, outputs: list[Output]) -> None:
        """Produce `outputs` and wait for every acknowledgement."""
        # Straight to Faust's aiokafka producer: Topic.send's per-message bookkeeping (FutureMessage,
        # callbacks) cost as much as the produce itself, and the hub needs only the acknowledgement.
        producer = self.app.producer
        futures = [await producer.send(o.topic, o.key, o.value, None, None, list(o.headers)) for o in outputs]
        await asyncio.gather(*futures)

    def close(self) -> None:
        """Release the ledger."""
        self.db.shutdown(wait=True)
        self.ledger.close()
