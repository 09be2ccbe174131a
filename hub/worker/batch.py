"""One batch decided and recorded: the ledger transaction around the pure core.

`decide_batch` is what the engine calls with the raw messages of one batch. Signatures and
validation run outside the ledger's lock; inside one transaction it reads what the ledger knows
about the batch, lets the core decide (`hub.core.decide.decide_all`) and appends the records. A
message the ledger already holds with the same bytes (a replay after a crash) is not decided again:
its recorded decision is returned so its output can be re-sent (at least once), never re-counted.
A decided submission id with other bytes is recorded as `rejected (sid-reuse)` under its own id.

Each record joins the hash chain of the partition its message came from, and the transaction
locks those partitions only (on PostgreSQL; see `hub.ledger.store`): two workers owning other
partitions decide at the same time. An item's dedupe state is guarded by the lock of its key's
home partition (`hub.kafka.partitioner`), which is the partition it came from whenever its
publisher keyed it by item (`hub.kafka.publisher.item_key`); when it is not, that partition is
locked as well, so every decision about one item is still taken under one lock. (The home is
computed from the validated key, `kind:<uuid>` with the UUID normalised, so two versions whose
publishers spelt the UUID differently, and landed on two partitions, still meet on one lock.)

    done = decide_batch(ledger, [Submitted("sid-1", raw, headers)], policy, datetime.now(UTC), trust)
    done[0].outcome.decision, done[0].record.seq, done[0].replayed
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.core.decide import (
    OWNER_RULES,
    Known,
    Recorded,
    Submitted,
    admit_all,
    decide_all,
    lookups,
    replayed_outcome,
    validated,
)
from hub.core.decision import Outcome
from hub.core.dedupe import FUTURE_SKEW
from hub.core.policy import ReleasePolicy
from hub.core.signing import Trust
from hub.core.sizes import OutputLimits
from hub.core.validate import DEFAULT_LIMITS, ItemLimits
from hub.kafka.partitioner import home_partition
from hub.ledger import Ledger, Record


@dataclass(frozen=True)
class Processed:
    """A message's outcome, its ledger record, and whether it was decided before (a replay)."""

    outcome: Outcome
    record: Record
    replayed: bool


def recorded(record: Record) -> Recorded:
    """The fields of a ledger record that a replay needs."""
    return Recorded(
        record.submission_id,
        record.decision,
        record.reason,
        record.rule,
        record.content_hash,
        record.message_digest,
        record.source_id,
        record.version,
    )


def locked(ledger: Ledger, batch: Sequence[Submitted], keys: Sequence[str], partitions: int | None) -> set[int]:
    """The partitions a batch's transaction locks: those it came from, and the home partition of each item key.

    Only a ledger several workers share needs the home partitions (SQLite has one writer at a time),
    and only when the partition count is known; hashing a key costs ~20 µs, so it is skipped otherwise.
    """
    mine = {item.partition for item in batch}
    if partitions is None or not ledger.shared:
        return mine
    return mine | {home_partition(key, partitions) for key in keys}


def decide_batch(
    ledger: Ledger,
    batch: Sequence[Submitted],
    policy: ReleasePolicy,
    now: datetime,
    trust: Trust | None = None,
    skew: timedelta = FUTURE_SKEW,
    limits: ItemLimits = DEFAULT_LIMITS,
    sizes: OutputLimits | None = None,
    partitions: int | None = None,
) -> list[Processed]:
    """Decide and record one batch; returns one Processed per message, in order.

    `trust` checks signatures; the worker always passes it, core tests may leave it out. `limits`
    bounds what validating one item may cost; `sizes`, when given, how large a delivery may be (one
    that is too large is decided `rejected`, rule `too-large`, before anything is recorded).
    `partitions`, the partition count of `hub.submitted`, lets a shared ledger lock the home
    partition of a key that arrived elsewhere; without it only the batch's own partitions are locked.
    """
    checked = admit_all(batch, trust, limits)
    ids, keys, hashes = lookups(batch, checked)
    with ledger.transaction(locked(ledger, batch, keys, partitions)):
        done = ledger.decided(ids)
        known = Known({sid: recorded(r) for sid, r in done.items()}, ledger.seen(keys), ledger.hash_owners(hashes))
        decided = decide_all(batch, checked, known, policy, now, skew, sizes)
        chains = {rid: item.partition for item, rid in zip(batch, decided.record_ids, strict=True)}
        records = {r.submission_id: r for r in ledger.append(decided.fresh, decided.changed, now, chains)}
    fresh = {o.submission_id: o for o in decided.fresh}
    result = []
    for item, c, record_id, replayed in zip(batch, checked, decided.record_ids, decided.replayed, strict=True):
        if record_id in done:  # decided in an earlier run
            before = recorded(done[record_id])
            readable = validated(item, c, limits) if before.crossed or before.rule in OWNER_RULES else c
            outcome = replayed_outcome(before, readable, policy, item.value)
            result.append(Processed(outcome, done[record_id], True))
        else:
            result.append(Processed(fresh[record_id], records[record_id], replayed))  # a second copy is a replay
    return result
