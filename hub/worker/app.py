"""The hub worker: a Faust app hosting the batch engine, with the ledger, the policy and the trust.

`HubWorker` ties the parts together and nothing else: the batch engine (`hub.worker.engine`) reads
`hub.submitted`, `HubWorker.decide` runs one batch through the core and the ledger
(`hub.worker.batch.decide_batch`) in the ledger's own thread and routes its outputs, each inbox
message signed with the hub's own key (`hub.core.delivery`), and the engine sends them.
Invariant: offsets are committed only after a batch's decisions are committed to the
ledger and every one of its outputs was acknowledged by the broker, so a crash replays only batches
decided in its last moments, and the ledger's unique submission ids keep the replay from being
counted twice. Faust hosts the engine, the health endpoints (`hub.worker.health`, when
`health.port` is set) and any extra tasks (the connectors `hub up` runs) and owns signals.
It says `ready: processing hub.submitted` once it has its partitions and its warm-up is done.

    hub = HubWorker(settings, bootstrap, connectors=[])
    faust.Worker(hub.app, loglevel="INFO").execute_from_commandline()  # until SIGINT or SIGTERM
    hub.close()
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial

import faust

from hub.config.keystore import hub_signer, load_keyring
from hub.config.policy_file import policy_for
from hub.core.decide import Submitted
from hub.core.decision import Outcome
from hub.core.delivery import delivery_headers
from hub.core.policy import ReleasePolicy
from hub.core.route import Output, route
from hub.core.signing import Trust
from hub.core.validate import ItemLimits
from hub.errors import LedgerError
from hub.kafka.config import faust_arguments, output_limits
from hub.kafka.probe import BrokerProbe
from hub.ledger import Ledger
from hub.settings import Settings
from hub.worker.batch import Processed, decide_batch
from hub.worker.checkpoint import Checkpointer
from hub.worker.engine import BatchEngine
from hub.worker.health import HealthService, Readiness
from hub.worker.metrics import HubMetrics
from hub.worker.status import RunsConnector
from hub.worker.warm import warm_up

log = logging.getLogger("hub.worker")
PROGRESS_EVERY_S = 10.0  # how often the worker logs its throughput
LEDGER_PROBE_TIMEOUT_S = 3.0  # a ping waits behind at most one batch in the ledger's thread (~1 s at worst)
Task = Callable[[], Awaitable[None]]


def release_policy(settings: Settings) -> ReleasePolicy:
    """The release policy in force: the policy file or the built-in one, with the settings' recipients."""
    return policy_for(settings)


def trust(settings: Settings) -> Trust:
    """The signature check: the keyring the settings name, and whether signing is required."""
    keyring = load_keyring(settings.keyring)
    if not keyring.keys and settings.signing.required:
        log.warning(
            "keyring %s holds no keys: every submission will be rejected as unsigned or unknown-key", settings.keyring
        )
    return Trust(keyring, settings.signing.required)


class HubWorker:
    """The Faust app and what its engine needs: ledger, policy, trust, the hub's key, the ledger's thread, metrics."""

    def __init__(
        self,
        settings: Settings,
        bootstrap: str,
        connectors: Sequence[RunsConnector] = (),
        topic_bytes: Mapping[str, int] | None = None,
    ) -> None:
        self.settings = settings
        self.sizes = output_limits(
            dict(topic_bytes or {})
        )  # what the broker said its topics take, or the producer's own
        (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
        self.app = faust.App(settings.app_id, **faust_arguments(settings, bootstrap))
        self.ledger = Ledger(settings.ledger)
        self.policy = release_policy(settings)
        self.hub = hub_signer(settings)  # before the keyring is read: a key made now is in it
        self.sign = partial(delivery_headers, self.hub)
        self.trust = trust(settings)
        self.skew = timedelta(seconds=settings.pipeline.future_skew_s)
        self.limits = ItemLimits(settings.limits.misp_attributes, settings.limits.misp_objects)
        self.checkpoints = Checkpointer(settings, self.hub)
        self.partitions = settings.kafka.partitions  # of hub.submitted: the home partition of an item key
        self.db = ThreadPoolExecutor(1, thread_name_prefix="ledger")  # the ledger connection's one thread
        # Warm up now, in the ledger's thread, while Faust starts and the group forms: the ready line
        # waits for it, and the first batch queues behind it.
        self._warm: Future[None] = self.db.submit(warm_up)
        self.decided = 0
        self._waited = 0.0  # the ledger's lock wait before the batch being decided
        self._progress = (time.monotonic(), 0)
        self.metrics = HubMetrics()
        self.probe = BrokerProbe(settings.kafka, bootstrap)
        self.readiness = Readiness(self.probe.check, self._ledger_problem)
        log.info("engine: batch (aiokafka getmany; consumer group %s.batch)", settings.app_id)
        # A dependency starts with the app, so its group join overlaps Faust's own start-up (a
        # service added with `app.service` would start after it: 4.3 s to ready instead of 2.0 s).
        self.engine = BatchEngine(
            self.decide,
            settings,
            bootstrap,
            on_assigned=self.on_assigned,
            on_batch=lambda _, seconds: self.metrics.batch_seconds.observe(seconds),
            sizes=self.sizes,
            loop=self.app.loop,
            beacon=self.app.beacon,
        )
        self.metrics.watch(self.engine.lag, [c.health for c in connectors])
        health = settings.health
        if health.port is not None:  # before the engine, so /readyz answers 503 during the group join
            registry = self.metrics.registry
            self.app.add_dependency(
                HealthService(
                    health.host, health.port, self.readiness, registry, [self.probe.close], loop=self.app.loop
                )
            )
        self.app.add_dependency(self.engine)
        self.app.timer(settings.checkpoints.interval_s)(self._checkpoint_idle)
        for connector in connectors:  # connectors declared in the config run as tasks of this worker
            self.app.task(connector.run)

    def on_assigned(self, partitions: list[int]) -> None:
        """Partitions of `hub.submitted` arrived: say so (the ready mark) once the warm-up is done."""
        self.readiness.partitions = partitions
        if self._warm.done():
            self._ready()
        else:
            loop = asyncio.get_running_loop()
            self._warm.add_done_callback(lambda _: loop.call_soon_threadsafe(self._ready))

    def _ready(self) -> None:
        self._warm.result()  # a failed warm-up is a broken install: raise it
        self.readiness.warm = True
        log.info("ready: processing hub.submitted, partitions %s", self.readiness.partitions)
        self._progress = (time.monotonic(), self.decided)  # the rate logged counts from here, not from start-up

    async def _ledger_problem(self) -> str | None:
        """None when the ledger answers in its own thread, else why not (for `/readyz`)."""
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(self.db, self.ledger.ping), LEDGER_PROBE_TIMEOUT_S)
        except TimeoutError:
            return f"no answer within {LEDGER_PROBE_TIMEOUT_S:.0f} s"
        except LedgerError as exc:
            return str(exc)
        return None

    def _decide(self, batch: list[Submitted]) -> tuple[list[Output], list[Processed], float]:
        began = time.monotonic()
        self._waited = self.ledger.locks.wait_s
        now = datetime.now(UTC)
        done = decide_batch(
            self.ledger, batch, self.policy, now, self.trust, self.skew, self.limits, self.sizes, self.partitions
        )
        took = time.monotonic() - began
        outputs = [
            o
            for item, d in zip(batch, done, strict=True)
            for o in route(d.outcome, d.record.seq, d.record.as_json(), item.value, self.sign)
        ]
        checkpoint = self.checkpoints.checkpoint(self.ledger)
        return outputs + ([checkpoint] if checkpoint else []), done, took

    async def _checkpoint_idle(self) -> None:
        """Sign the head when records came in since the last checkpoint and no batch has signed it for a while."""
        loop = asyncio.get_running_loop()
        checkpoint = await loop.run_in_executor(self.db, self.checkpoints.checkpoint, self.ledger)
        if checkpoint is not None:
            await self.engine.publish([checkpoint])

    async def decide(self, batch: list[Submitted]) -> list[Output]:
        """Decide and record `batch` in the ledger's thread; the outputs to send. Counts, logs a summary."""
        outputs, done, took = await asyncio.get_running_loop().run_in_executor(self.db, self._decide, batch)
        fresh = [d.outcome for d in done if not d.replayed]
        self.metrics.decided(fresh, len(done) - len(fresh))
        self.metrics.ledger_seconds.observe(took)
        self._summary(len(batch), fresh, took)
        self.decided += len(fresh)
        last, last_count = self._progress
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            log.info(
                "decided %d submissions (%.0f/s)", self.decided, (self.decided - last_count) / (time.monotonic() - last)
            )
            self._progress = (time.monotonic(), self.decided)
        return outputs

    def _summary(self, size: int, fresh: list[Outcome], took: float) -> None:
        """One INFO line per batch: its size, the fresh decisions by kind, the replays, the ledger's time."""
        tally = Counter(o.decision.value for o in fresh)
        summary = {
            "submissions": size,
            "decided": len(fresh),
            "replayed": size - len(fresh),
            "ledger_ms": round(took * 1000, 1),
            "lock_wait_ms": round((self.ledger.locks.wait_s - self._waited) * 1000, 2),  # of ledger_ms
        }
        shown = ", ".join(f"{n} {d}" for d, n in sorted(tally.items())) or "nothing new"
        log.info(
            "batch: %d submissions, %s, %d replayed; ledger %.1f ms (lock wait %.2f ms)",
            size,
            shown,
            summary["replayed"],
            took * 1000,
            summary["lock_wait_ms"],
            extra={"batch": {**summary, "decisions": dict(tally)}},
        )

    def close(self) -> None:
        """Release the ledger."""
        self.db.shutdown(wait=True)
        self.ledger.close()
