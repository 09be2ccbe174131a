"""The batch engine's contract, written once and bound twice: to the in-memory pair and to the embedded broker.

`EngineContract` holds the tests; `TestMemoryEngine` and `TestBrokerEngine` bind them (as
faststream binds its broker test classes). The decide coroutine here is a stand-in for the
ledger: it records which submissions each engine decided and sends one output per submission, so
the tests see the engine's own guarantees: commits in batch order and only after the
acknowledgements, a batch re-sent when an acknowledgement fails, and a rebalance that waits for
the batch in flight to be committed before another member takes its partitions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from hub.core.decide import Submitted
from hub.core.route import Output
from hub.kafka.config import COMMIT_INTERVAL_S
from hub.worker.engine import BatchEngine
from tests.worker.bindings import OUT, Binding, BrokerBinding, MemoryBinding, engine_settings

WAIT_S = 30.0  # generous on a loaded 2-core machine; each step normally takes well under a second


class Recorder:
    """A decide coroutine: records each batch's submission ids, may wait on a gate, sends one output each."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.batches: list[list[str]] = []
        self.gate = gate
        self.entered = asyncio.Event()

    @property
    def sids(self) -> list[str]:
        return [s for b in self.batches for s in b]

    async def decide(self, batch: list[Submitted]) -> list[Output]:
        self.entered.set()
        if self.gate is not None and not self.batches:
            await self.gate.wait()  # the first batch stays in flight until the test opens the gate
        self.batches.append([s.submission_id for s in batch])
        return [Output(OUT, None, s.value, ((("hub-sid", s.submission_id.encode())),)) for s in batch]


async def until(check: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


class EngineContract:
    """The engine's guarantees; a subclass gives the `binding`."""

    @pytest.fixture
    async def engines(self, binding: Binding) -> AsyncIterator[Callable[..., BatchEngine]]:
        started: list[BatchEngine] = []

        def make(recorder: Recorder, settings, assigned: list[list[int]] | None = None) -> BatchEngine:
            on_assigned = (lambda parts: assigned.append(parts)) if assigned is not None else (lambda _: None)
            engine = BatchEngine(
                recorder.decide,
                settings,
                binding.bootstrap,
                on_assigned=on_assigned,
                clients=binding.clients(settings),
                loop=asyncio.get_running_loop(),
            )
            started.append(engine)
            return engine

        yield make
        binding.release_holds()  # a test that failed while holding acknowledgements must not hang its teardown
        for engine in started:
            await engine.stop()
        await binding.close()

    async def test_commits_follow_the_batches_in_order_and_only_after_their_acks(self, binding, engines):
        settings = engine_settings(binding.bootstrap, batch_size=5)
        group = f"{settings.app_id}.batch"
        values = [f"a{i:02d}".encode() for i in range(20)]
        await binding.submit(values, partition=0)
        first = set(values[:5])
        hold = binding.hold_acks(lambda topic, v: topic == OUT and v in first)
        recorder = Recorder()
        await engines(recorder, settings).start()

        await until(lambda: len(recorder.sids) == 20, "every batch decided")
        await asyncio.sleep(2 * COMMIT_INTERVAL_S)  # commits would have happened by now, had they not waited
        assert binding.committed(group) == {}  # the later batches are acknowledged, the first is not: no commit
        hold.release()
        await until(lambda: binding.committed(group).get(0) == 20, "the commit of every batch")

        assert recorder.sids == [v.decode() for v in values]  # decided in offset order
        offsets = [c[0] for c in binding.commits(group) if 0 in c]
        assert offsets == sorted(set(offsets))  # each commit goes further than the one before
        acked_at = {value: i for i, (kind, (_, value)) in enumerate(binding.events) if kind == "ack"}
        commit_at = [i for i, (kind, (g, _)) in enumerate(binding.events) if kind == "commit" and g == group]
        for at, committed in zip(commit_at, binding.commits(group), strict=True):
            below = values[: committed.get(0, 0)]
            assert all(acked_at[v] < at for v in below), "an offset was committed before its output was acknowledged"

    async def test_a_failed_acknowledgement_sends_the_batch_again_before_committing(self, binding, engines, caplog):
        caplog.set_level(logging.WARNING, logger="hub.worker")
        settings = engine_settings(binding.bootstrap, batch_size=10)
        group = f"{settings.app_id}.batch"
        values = [f"b{i:02d}".encode() for i in range(10)]
        binding.fail_acks(3)
        await binding.submit(values, partition=1)
        recorder = Recorder()
        await engines(recorder, settings).start()

        await until(lambda: binding.committed(group).get(1) == 10, "the commit after the re-send")
        outputs = await binding.outputs(expect=10)
        assert set(outputs) == set(values)  # every output arrived, at least once
        assert len(outputs) >= len(values)
        assert sorted(recorder.sids) == sorted(v.decode() for v in values)  # decided once: only the send repeats
        assert "; sending them again" in caplog.text  # only the outputs that failed are sent again
        last_ack = max(i for i, (kind, _) in enumerate(binding.events) if kind == "ack")
        first_commit = min(i for i, (kind, (g, _)) in enumerate(binding.events) if kind == "commit" and g == group)
        assert first_commit > last_ack

    async def test_a_rebalance_waits_for_the_batch_in_flight(self, binding, engines):
        settings = engine_settings(binding.bootstrap, batch_size=20)
        group = f"{settings.app_id}.batch"
        values = {p: [f"c{p}-{i:02d}".encode() for i in range(10)] for p in (0, 1)}  # one batch holds both
        for p, vs in values.items():
            await binding.submit(vs, partition=p)
        gate = asyncio.Event()
        a, b = Recorder(gate), Recorder()
        a_assigned: list[list[int]] = []
        b_assigned: list[list[int]] = []
        await engines(a, settings, a_assigned).start()
        await until(lambda: a.entered.is_set(), "the first batch in flight")
        assert a_assigned == [[0, 1]]

        joining = asyncio.ensure_future(engines(b, settings, b_assigned).start())  # A must give up a partition
        try:
            await asyncio.sleep(binding.rebalance_s)  # long enough for a rebalance nobody holds up
            assert b_assigned == []  # A's batch is still in flight: the rebalance waits for it
            assert b.sids == []
        finally:
            gate.set()  # also when an assertion failed: the engines can then stop
            await joining  # aiokafka's start returns once the group has formed

        everything = {v.decode() for vs in values.values() for v in vs}
        await until(lambda: set(a.sids) | set(b.sids) == everything, "every submission decided")
        await until(lambda: sum(binding.committed(group).values()) == 20, "every offset committed")
        in_flight = set(a.batches[0])
        assert {s[:2] for s in in_flight} == {"c0", "c1"}  # the batch in flight spans both partitions
        assert not in_flight & set(b.sids)  # committed by A before B took its partition: never decided twice
        assert b_assigned
        assert b_assigned[-1]  # B took over at least one partition
        assert sorted(a_assigned[-1] + b_assigned[-1]) == [0, 1]


class TestMemoryEngine(EngineContract):
    """The contract on `MemoryKafka`, in-process."""

    @pytest.fixture
    def binding(self) -> Binding:
        return MemoryBinding()


@pytest.mark.broker
class TestBrokerEngine(EngineContract):
    """The contract on the embedded Tansu broker, through aiokafka."""

    @pytest.fixture
    async def binding(self, broker) -> Binding:
        bound = BrokerBinding(broker.bootstrap)
        await bound.setup()
        return bound
