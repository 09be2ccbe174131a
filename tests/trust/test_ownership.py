"""Owned items on a ledger: the first verified submitter owns an item; versions from the future are refused.

The three hijacks of issue 10, at the ledger: another organisation of the same side sending a newer
version, the other side claiming an id first with a version dated 9999, and the other side
re-publishing a MISP event with timestamp 9999 (or merely newer). And the ledger of schema 1,
migrated: each item's owner is taken from its first record that set its state.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from hub.audit.verify import verify
from hub.config.keystore import load_keyring
from hub.core.admit import Submitted
from hub.core.policy import ReleasePolicy
from hub.core.route import route
from hub.core.signing import Trust
from hub.demo.scenario import BASE_TIME, envelope
from hub.ledger import Ledger
from hub.ledger.records import COLUMNS, LATER_FIELDS
from hub.ledger.schema import MIGRATIONS
from hub.worker.batch import decide_batch
from tests.conftest import TEST_SIGNERS, write_test_keyring

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FAR = "9999-12-31T00:00:00+00:00"
HFC, CERT_EU, NATO_HAB = "EU Hybrid Fusion Cell", "CERT-EU", "NATO Hybrid Analysis Branch"


@pytest.fixture
def ledger(ledger_url):
    led = Ledger(ledger_url)
    yield led
    led.close()


@pytest.fixture
def trust(tmp_path):
    return Trust(load_keyring(write_test_keyring(tmp_path / "keyring.json")), required=True)


class Run:
    """Submissions decided one batch at a time, with fresh submission ids."""

    def __init__(
        self, ledger: Ledger, trust: Trust, skew: timedelta = timedelta(minutes=15), prefix: str = "s"
    ) -> None:
        self.ledger, self.trust, self.skew, self.n, self.prefix = ledger, trust, skew, 0, prefix

    def __call__(self, doc: dict) -> tuple[str, str]:
        self.n += 1
        raw = json.dumps(doc).encode()
        item = Submitted(f"{self.prefix}{self.n}", raw, tuple(TEST_SIGNERS.headers(raw)))
        done = decide_batch(self.ledger, [item], ReleasePolicy(), NOW, self.trust, self.skew)[0]
        self.last = done
        return done.outcome.decision.value, done.outcome.rule


def assessment(version: datetime, origin: str = "EU", originator: str = HFC, title: str = "v") -> dict:
    doc = envelope(random.Random(11), "assessment", origin, BASE_TIME)  # the same source_id every time
    doc.update(origin=origin, originator=originator, version=version.isoformat(), modified=version.isoformat())
    doc["payload"]["title"] += f" {title}"
    return doc


def misp(timestamp: int | str, origin: str = "EU", orgc: str = "CERT-EU") -> dict:
    doc = envelope(random.Random(12), "misp_event", origin, BASE_TIME)
    doc["originator"] = CERT_EU if origin == "EU" else "NCIRC"
    ev = doc["payload"]["Event"]
    ev["timestamp"] = str(timestamp)
    ev["Orgc"]["name"] = orgc
    return doc


def test_another_organisation_of_the_same_side_may_not_send_a_newer_version(ledger, trust):
    run = Run(ledger, trust)
    v1, v2 = BASE_TIME, BASE_TIME + timedelta(days=1)
    assert run(assessment(v1)) == ("delivered", "new")
    cert_eu_doc = assessment(v2, originator=CERT_EU, title="hijacked")
    assert run(cert_eu_doc) == ("rejected", "not-owner")
    assert "belongs to EU:EU Hybrid Fusion Cell" in run.last.outcome.reason
    assert run.last.record.content_hash is None  # a refused item leaves no hash behind
    assert run(assessment(v2, title="genuine")) == ("updated", "newer-version")
    assert run(assessment(v2 + timedelta(days=1), title="later")) == ("updated", "newer-version")
    assert run(assessment(v2, origin="NATO", originator=NATO_HAB)) == ("duplicate", "echo")  # same version back
    assert run(assessment(v2 + timedelta(days=9), origin="NATO", originator=NATO_HAB)) == ("rejected", "not-owner")


def test_a_version_from_the_future_claims_nothing(ledger, trust):
    run = Run(ledger, trust)
    hijack = assessment(datetime.fromisoformat(FAR), origin="NATO", originator=NATO_HAB)
    assert run(hijack) == ("rejected", "future-version")
    assert "more than 0:15:00 ahead of the hub's clock" in run.last.outcome.reason
    assert run(assessment(BASE_TIME)) == ("delivered", "new")  # the genuine owner claims it
    assert run(assessment(BASE_TIME + timedelta(days=1), title="2")) == ("updated", "newer-version")
    assert run(assessment(NOW + timedelta(minutes=14), title="3")) == ("updated", "newer-version")  # within the skew
    assert run(assessment(NOW + timedelta(minutes=16), title="4")) == ("rejected", "future-version")


def test_the_allowed_skew_is_a_setting(ledger, trust):
    run = Run(ledger, trust, skew=timedelta(hours=2))
    assert run(assessment(NOW + timedelta(minutes=90))) == ("delivered", "new")
    assert run(assessment(NOW + timedelta(minutes=150), title="2")) == ("rejected", "future-version")


def test_a_relayed_misp_event_is_owned_by_the_key_that_sent_it_not_by_its_orgc(ledger, trust):
    run = Run(ledger, trust)
    t0 = int(BASE_TIME.timestamp())
    assert run(misp(t0, orgc="CIRCL")) == ("delivered", "new")  # CERT-EU relays CIRCL's event
    assert run.last.record.submitter == "EU:CERT-EU"
    assert run(misp(253402214400, origin="NATO")) == ("rejected", "future-version")  # NCIRC, timestamp in 9999
    assert run(misp(t0 + 60, origin="NATO", orgc="CERT-EU")) == ("rejected", "not-owner")  # NCIRC, merely newer
    assert run(misp(t0, origin="NATO")) == ("duplicate", "echo")  # NCIRC's pull of what the hub delivered
    assert run(misp(t0 + 120, orgc="CIRCL")) == ("updated", "newer-version")  # the owner's next version
    assert run(misp(t0 + 180, orgc="NCIRC")) == ("updated", "newer-version")  # whatever Orgc says


def test_a_refused_hijack_shows_no_hash_on_the_decisions_topic(ledger, trust):
    run = Run(ledger, trust)
    run(assessment(BASE_TIME))
    run(assessment(BASE_TIME + timedelta(days=1), originator=CERT_EU))
    outputs = route(run.last.outcome, run.last.record.seq, run.last.record.as_json(), b"{}")
    public = json.loads(next(o for o in outputs if o.topic == "hub.decisions").value)
    assert (public["decision"], public["rule"], public["content_hash"]) == ("rejected", "not-owner", None)


def schema_one_ledger(url: str, trust: Trust) -> None:
    """A ledger as version 1 of the schema wrote it: two items, one of them updated, hashed without later fields."""
    current = Ledger(url)
    run = Run(current, trust)
    for doc in (
        assessment(BASE_TIME),
        misp(int(BASE_TIME.timestamp())),
        assessment(BASE_TIME + timedelta(1), title="2"),
    ):
        run(doc)
    rows = [tuple(getattr(r, c) for c in COLUMNS if c not in LATER_FIELDS) for r in current.records()]
    current.close()
    _rebuild(url, MIGRATIONS[0].text("postgresql" if url.startswith("postgres") else "sqlite"), rows)


RECOUNT = (
    "INSERT INTO counts SELECT day, area, kind, direction, decision, COUNT(*) FROM ledger "
    "GROUP BY day, area, kind, direction, decision"
)


def _rebuild(url: str, schema_one: str, rows: list[tuple]) -> None:
    """Drop everything and write `rows` (hashed without later fields) into a schema-1 ledger."""
    from hub.ledger.records import GENESIS, Record, chain_hash

    prev, fixed = GENESIS, []
    for row in rows:
        record = Record(*row[:-2], prev_hash=prev, hash="")
        digest = chain_hash(prev, record.body())
        fixed.append((*row[:-2], prev, digest))
        prev = digest
    items = [
        ("assessment:" + fixed[0][11], fixed[2][12], fixed[2][13], "EU", 1),
        ("misp_event:" + fixed[1][11], fixed[1][12], fixed[1][13], "EU", 1),
    ]
    marks = ",".join(["%s"] * 17)
    statements = [f"DROP TABLE IF EXISTS {t}" for t in ("ledger", "items", "counts", "chain_heads")]  # schema 5's too
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        for s in statements:
            conn.execute(s)
        conn.executescript(schema_one)
        conn.execute("UPDATE ledger_schema SET version = 1")
        conn.executemany(f"INSERT INTO ledger VALUES ({marks.replace('%s', '?')})", fixed)  # noqa: S608 - marks
        conn.executemany("INSERT INTO items VALUES (?,?,?,?,?)", items)
        conn.execute(RECOUNT)
        conn.close()
        return
    with psycopg.connect(url, autocommit=True) as conn:
        for s in statements:
            conn.execute(s + " CASCADE")
        conn.execute(schema_one)
        conn.execute("UPDATE ledger_schema SET version = 1")
        conn.cursor().executemany(f"INSERT INTO ledger VALUES ({marks})", fixed)  # noqa: S608 - marks
        conn.cursor().executemany("INSERT INTO items VALUES (%s,%s,%s,%s,%s)", items)
        conn.execute(RECOUNT)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_schema_one_ledger_gets_owners_from_its_records_and_keeps_its_chain(backend, request, trust):
    url = request.getfixturevalue("ledger_url" if backend == "sqlite" else "pg_url")
    schema_one_ledger(url, trust)
    ledger = Ledger(url)  # migrates to the newest schema
    try:
        assert verify(ledger).records == 3  # the old records' hashes still hold
        seen = ledger.seen([f"assessment:{r.source_id}" for r in ledger.records()])
        assert {s.owner for s in seen.values()} == {"EU:EU Hybrid Fusion Cell"}
        run = Run(ledger, trust, prefix="after-")
        assert run(assessment(BASE_TIME + timedelta(days=2), originator=CERT_EU)) == ("rejected", "not-owner")
        assert run(assessment(BASE_TIME + timedelta(days=2), title="3")) == ("updated", "newer-version")
        assert verify(ledger).records == 5
        legacy = Run(ledger, trust)  # ids s1, s2, ... again: records of schema 1, without a digest
        assert legacy(assessment(BASE_TIME)) == ("delivered", "new")  # the very item recorded: a replay
        assert legacy.last.replayed
        assert legacy(assessment(BASE_TIME, title="other")) == ("rejected", "sid-reuse")  # s2, other bytes
        assert verify(ledger).records == 6
    finally:
        ledger.close()
