"""Synthetic decision histories: years of realistic ledger records, for tests and benchmarks.

Records go through `Ledger.append` (the hub's own write path, hash chain and live counts) in large
transactions, one `append` per batch time, so a million records take about a minute. Envelopes are
built with `model_construct`: the ledger reads only their identity fields, and validating a million
payloads would measure pydantic, not the ledger.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.core.decision import Decision, Outcome
from hub.demo.scenario import ORGS
from hub.ledger import Ledger
from schemas.common import Area, Kind, Side
from schemas.envelope import AssessmentEnvelope, Envelope, MispEventEnvelope, StratcomNoteEnvelope

ENVELOPES: dict[str, type[Envelope]] = {
    Kind.ASSESSMENT: AssessmentEnvelope,
    Kind.STRATCOM_NOTE: StratcomNoteEnvelope,
    Kind.MISP_EVENT: MispEventEnvelope,
}
# Roughly what the staffs exchange: CERT events dominate, then assessments, then notes.
KIND_WEIGHTS = {Kind.MISP_EVENT: 6, Kind.ASSESSMENT: 3, Kind.STRATCOM_NOTE: 2}
AREA_BY_KIND = {
    Kind.MISP_EVENT: [Area.CYBER] * 8 + [Area.HYBRID_THREATS, Area.EXERCISES],
    Kind.ASSESSMENT: [Area.HYBRID_THREATS] * 4 + [a for a in Area if a is not Area.HYBRID_THREATS],
    Kind.STRATCOM_NOTE: [Area.HYBRID_THREATS] * 3 + [Area.POLITICAL_DIALOGUE, Area.CAPACITY_BUILDING],
}
# Shares of each decision in a realistic stream (per 100 submissions).
DECISION_WEIGHTS = {
    Decision.DELIVERED: 70,
    Decision.UPDATED: 10,
    Decision.DUPLICATE: 10,
    Decision.WITHHELD: 6,
    Decision.REJECTED: 4,
}
RULES = {
    Decision.DELIVERED: ("new", "new item"),
    Decision.UPDATED: ("newer-version", "a strictly newer version of a delivered item"),
    Decision.DUPLICATE: ("same-version", "same or older version already seen"),
    Decision.WITHHELD: ("tlp-red", "TLP:RED may not leave its originator"),
    Decision.REJECTED: ("invalid", "field `version`: must carry a time zone"),
}
BATCHES_PER_DAY = 4  # four batch times a day spread the records over the hours
KNOWN_ITEMS = 10_000  # items later updates and duplicates pick from; bounds memory at a million records


@dataclass(frozen=True)
class Span:
    """When a synthetic history starts and how many days it covers."""

    start: datetime
    days: int


def fill(ledger: Ledger, total: int, span: Span, seed: int = 2016, per_transaction: int = 50_000) -> int:
    """Append `total` synthetic decisions spread evenly over `span`; returns the number written."""
    rng = random.Random(seed)  # noqa: S311 - synthetic test data, not secrets
    batches = span.days * BATCHES_PER_DAY
    written = 0
    pending: list[tuple[datetime, list[Outcome]]] = []
    in_pending = 0
    for i, outcomes in enumerate(_batches(rng, total, batches)):
        at = span.start + timedelta(hours=24 * i / BATCHES_PER_DAY, minutes=rng.randrange(60))
        pending.append((at, outcomes))
        in_pending += len(outcomes)
        if in_pending >= per_transaction:
            written += _write(ledger, pending)
            pending, in_pending = [], 0
    return written + _write(ledger, pending)


def _write(ledger: Ledger, pending: list[tuple[datetime, list[Outcome]]]) -> int:
    with ledger.transaction():
        for at, outcomes in pending:
            ledger.append(outcomes, {}, at)
    return sum(len(o) for _, o in pending)


def _batches(rng: random.Random, total: int, batches: int) -> Iterator[list[Outcome]]:
    known: list[Envelope] = []  # delivered items that later updates and duplicates refer to
    made = 0
    for b in range(batches):
        size = (total * (b + 1)) // batches - made
        made += size
        yield [_outcome(rng, known) for _ in range(size)]


def _outcome(rng: random.Random, known: list[Envelope]) -> Outcome:
    decision = rng.choices(list(DECISION_WEIGHTS), weights=list(DECISION_WEIGHTS.values()))[0]
    sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    rule, reason = RULES[decision]
    if decision is Decision.REJECTED:
        return Outcome(sid, decision, reason, rule, hint=(Kind.MISP_EVENT.value, Area.CYBER.value, Side.EU.value))
    if decision in (Decision.UPDATED, Decision.DUPLICATE) and known:
        env = rng.choice(known)
    else:
        env = _envelope(rng)
        if decision in (Decision.UPDATED, Decision.DUPLICATE):
            decision, rule, reason = Decision.DELIVERED, *RULES[Decision.DELIVERED]
        if decision is Decision.DELIVERED:
            _remember(rng, known, env)
    digest = f"{rng.getrandbits(256):064x}"
    tags = ("tlp:green",) if decision is not Decision.WITHHELD else ()
    return Outcome(sid, decision, reason, rule, env, digest, tags)


def _remember(rng: random.Random, known: list[Envelope], env: Envelope) -> None:
    if len(known) < KNOWN_ITEMS:
        known.append(env)
    else:
        known[rng.randrange(KNOWN_ITEMS)] = env


def _envelope(rng: random.Random) -> Envelope:
    kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    side = rng.choice([Side.EU, Side.NATO])
    when = datetime(2018, 6, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**8))
    return envelope(kind, side, rng.choice(AREA_BY_KIND[kind]), uuid.UUID(int=rng.getrandbits(128), version=4), when)


def envelope(kind: Kind, side: Side, area: Area, source_id: uuid.UUID, when: datetime) -> Envelope:
    """An envelope with the identity fields the ledger records and no payload (not validated)."""
    fields: dict[str, Any] = {
        "origin": side,
        "originator": ORGS[side.value][kind.value],
        "source_id": source_id,
        "version": when,
        "created": when,
        "modified": when,
        "area": area,
    }
    return ENVELOPES[kind].model_construct(**fields)  # the kind comes from the class default; no payload needed
