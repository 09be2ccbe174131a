"""Fixtures of the dashboard tests: a ledger with decisions of today and of the previous period, served."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from hub.dashboard.server import Dashboard
from hub.ledger import Ledger
from hub.report.period import cadence_period
from tests.audit.ledgers import many, outcome, write


@pytest.fixture
def filled(ledger_url):
    """Decisions of every kind today, and a few in the previous half-year (outside the default period)."""
    led = Ledger(ledger_url)
    today = datetime.now(UTC)
    before = cadence_period(today.date()).first - timedelta(days=20)
    write(led, before.isoformat(), *many(5, kind="assessment", area="hybrid_threats"))
    notes = [*many(4, kind="stratcom_note", area="political_dialogue"),
             outcome(decision="duplicate", kind="stratcom_note", area="hybrid_threats")]  # fmt: skip
    write(led, today.isoformat(), *many(7), *many(3, origin="NATO", decision="updated"),
          *many(2, kind="assessment", area="hybrid_threats", origin="NATO"), *notes,
          outcome(decision="withheld"), outcome(decision="rejected"))  # fmt: skip
    led.close()
    return ledger_url


@pytest.fixture
def dashboard(filled):
    """The dashboard on a free loopback port, serving in a thread."""
    server = Dashboard(Ledger(filled), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    server.ledger.close()
