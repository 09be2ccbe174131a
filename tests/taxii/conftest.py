"""Fixtures of the TAXII tests: the hub's web server in a thread, tokens, a store filled in bulk."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.store import delivered
from hub.config.keystore import write_private_key
from hub.core.canonical import content_hash
from hub.core.decision import Decision, Outcome
from hub.demo.scenario import BASE_TIME, ORGS, envelope, updated
from hub.ledger import Ledger
from hub.ledger.deliveries import put
from hub.ledger.tokens import add
from hub.settings import Settings, load_settings
from hub.web.app import web_app
from hub.web.server import WebServer
from schemas.common import Side
from schemas.envelope import SUBMISSION
from tests.audit.ledgers import write
from tests.conftest import TEST_KEYS


def server_settings(tmp_path: Path, ledger_url: str, keyring: Path, bootstrap: str = "") -> Settings:
    """Settings of a web server on the test's ledger, holding the signing keys of the EU and NATO assessment cells."""
    keys = tmp_path / "server-keys"
    for side in ("EU", "NATO"):
        org = ORGS[side]["assessment"]
        write_private_key(TEST_KEYS[(side, org)], keys / f"{side.lower()}-{org.lower().replace(' ', '-')}.pem")
    kafka = {"bootstrap": bootstrap, "partitions": 4} if bootstrap else {}
    return load_settings(ledger_url=ledger_url, data_dir=tmp_path / "data", kafka=kafka,
                         signing={"keyring": keyring}, serve={"keys_dir": keys})  # fmt: skip


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The hub's web server on a free loopback port, in a thread; yields its URL."""
    figures, taxii = Ledger(settings.ledger), Ledger(settings.ledger)
    app, _ = web_app(settings, figures, taxii, lambda: str(settings.kafka.bootstrap))
    server = WebServer(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        figures.close()
        taxii.close()


@pytest.fixture
def web(tmp_path, ledger_url, keyring_file) -> Iterator[str]:
    """The web server over the test's ledger (no broker)."""
    with serving(server_settings(tmp_path, ledger_url, keyring_file)) as url:
        yield url


@pytest.fixture
def token(ledger_url) -> Callable[[str, str], str]:
    """Make an API token for (org, side)."""

    def make(org: str, side: str) -> str:
        led = Ledger(ledger_url)
        try:
            return add(led, org, side)[1]
        finally:
            led.close()

    return make


def fill_store(
    ledger_url: str, side: Side, n: int, seed: int = 5, kinds=("assessment", "stratcom_note"), updates: int = 0,
    recorded: bool = False,
) -> list[dict]:  # fmt: skip
    """Keep `n` deliveries for `side` (the last `updates` of them newer versions of the first ones) through the
    store's own functions, in bulk, as its consumer does; `recorded`: their ledger records too, as the worker
    appends them (delivered, updated)."""
    rng = random.Random(seed)
    origin = "NATO" if side == Side.EU else "EU"
    envs: list[dict[str, Any]] = []
    for i in range(n - updates):
        envs.append(envelope(rng, kinds[i % len(kinds)], origin, BASE_TIME + timedelta(seconds=i)))
    envs += [updated(envs[i], BASE_TIME + timedelta(days=1, seconds=i)) for i in range(updates)]
    models = [SUBMISSION.validate_python(e) for e in envs]
    for env, model in zip(envs, models, strict=True):
        env["content_hash"] = content_hash(model)  # as the hub delivers it
    led = Ledger(ledger_url)
    try:
        for start in range(0, n, 2000):
            put(led, [delivered(side, e) for e in envs[start : start + 2000]], datetime.now(UTC))
        if recorded:
            outcomes = [
                Outcome(str(uuid.uuid4()), Decision.UPDATED if i >= n - updates else Decision.DELIVERED, "new item",
                        "new", m, e["content_hash"], (), submitter=f"{origin}:{m.originator}")
                for i, (e, m) in enumerate(zip(envs, models, strict=True))
            ]  # fmt: skip
            for start in range(0, n, 2000):
                write(led, datetime.now(UTC).isoformat(), *outcomes[start : start + 2000])
    finally:
        led.close()
    return envs


def datetime_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)
