"""Shared fixtures: a real embedded broker, ledgers on SQLite and PostgreSQL, worker processes, topic readers."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from hub.config.keystore import save_keyring
from hub.core.keys import Keyring, RegisteredKey, key_id
from hub.core.signing import SignsSubmissions
from hub.demo.scenario import scenario_keys, scenario_signers
from hub.kafka.broker import EmbeddedBroker
from hub.kafka.publisher import Publisher
from hub.settings import KafkaSettings
from hub.worker.supervise import WorkerProcess
from schemas.common import Side

PG_ADMIN = os.environ.get("HUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MISP_FIXTURES = SHARED / "fixtures" / "misp"
TEST_KEYS = scenario_keys(seed="hub-tests")  # one deterministic key per scenario organisation
TEST_SIGNERS = scenario_signers(TEST_KEYS)  # signs each scenario item with its originator's key


def write_test_keyring(path: Path) -> Path:
    """Register the public halves of TEST_KEYS in a keyring file at `path`."""
    ring = Keyring({})
    for (side, org), private in TEST_KEYS.items():
        public = private.public_key()
        ring = ring.with_key(RegisteredKey(key_id(public), org, Side(side), public))
    save_keyring(ring, path)
    return path


@pytest.fixture
def keyring_file(tmp_path: Path) -> Path:
    """A keyring holding the test keys of every scenario organisation."""
    return write_test_keyring(tmp_path / "keyring.json")


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    """A fresh Tansu broker on a free loopback port (memory storage, ~0.1 s to start)."""
    with EmbeddedBroker() as b:
        yield b


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    """A SQLite ledger in the test's own directory."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def worker_env(broker: EmbeddedBroker, ledger_url: str, tmp_path: Path, keyring_file: Path) -> dict[str, str]:
    """Environment for a worker on the test's broker and ledger, signatures required against the test keyring."""
    return {
        "HUB_SIGNING__KEYRING": str(keyring_file),
        "HUB_SIGNING__REQUIRED": "true",
        "HUB_KAFKA__BOOTSTRAP": broker.bootstrap,
        "HUB_LEDGER_URL": ledger_url,
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_KAFKA__SESSION_TIMEOUT_S": "2",
        "HUB_KAFKA__PARTITIONS": "4",
    }


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `hub up` child processes (waiting until ready); all are stopped at teardown."""
    started: list[WorkerProcess] = []

    def start(**extra_env: str) -> WorkerProcess:
        w = WorkerProcess({**worker_env, **extra_env}, tmp_path / f"worker-{len(started)}.log").start()
        started.append(w)
        w.wait_ready()
        return w

    yield start
    for w in started:
        w.stop()


async def publish(bootstrap: str, items: list[bytes], signer: SignsSubmissions | None = TEST_SIGNERS) -> list[str]:
    """Publish raw submissions, signed by their originators' test keys, and wait for the acknowledgement."""
    async with Publisher(KafkaSettings(bootstrap=bootstrap, partitions=4), bootstrap, signer=signer) as pub:
        return await pub.publish(items)


async def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 30.0) -> list[Any]:
    """Read `topic` from the start until `expect` messages arrived or `timeout` passed; aiokafka records."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    got: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(got) < expect and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                got.extend(records)
    finally:
        await consumer.stop()
    return got


def values(records: list[Any]) -> list[dict[str, Any]]:
    """JSON-decoded values of aiokafka records."""
    return [json.loads(r.value) for r in records]


THOUSAND_MIXED = {"delivered": 800, "updated": 50, "duplicate": 100, "withheld": 30, "rejected": 20}
"""What issue 2's scenario (1,000 items: 100 duplicates, 50 updates, 30 TLP:RED, 20 malformed) must give."""


def assert_exact_counts(ledger: Any, expected: dict[str, int]) -> None:
    """The live counts total `expected` per decision and equal a recount of the ledger records."""
    from hub.report.counts import totals

    assert totals(ledger.counts()) == expected
    assert ledger.counts() == ledger.recount()
