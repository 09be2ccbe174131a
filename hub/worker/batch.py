"""One batch decided and recorded: the ledger transaction around the pure core.

`decide_batch` is what the engine calls with the raw messages of one batch. Signatures and
validation run outside the ledger's lock; inside one transaction it reads what the ledger knows
about the batch, lets the core decide (`hub.core.decide.decide_all`) and appends the records. A
submission the ledger already holds (a replay after a crash) is not decided again: its recorded
decision is returned so its output can be re-sent (at least once), never re-counted.

    done = decide_batch(ledger, [Submitted("sid-1", raw, headers)], policy, datetime.now(UTC), trust)
    done[0].outcome.decision, done[0].record.seq, done[0].replayed
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.core.decide import Known, Recorded, Submitted, admit_all, decide_all, lookups, replayed_outcome
from hub.core.decision import Outcome
from hub.core.policy import ReleasePolicy
from hub.core.signing import Trust
from hub.core.sizes import OutputLimits
from hub.core.validate import DEFAULT_LIMITS, ItemLimits, Valid, validate
from hub.ledger import Ledger, Record


@dataclass(frozen=True)
class Processed:
    """A submission's outcome, its ledger record, and whether it was decided in an earlier run."""

    outcome: Outcome
    record: Record
    replayed: bool


def recorded(record: Record) -> Recorded:
    """The fields of a ledger record that a re-sent output needs."""
    return Recorded(record.submission_id, record.decision, record.reason, record.rule, record.content_hash)


def decide_batch(
    ledger: Ledger,
    batch: Sequence[Submitted],
    policy: ReleasePolicy,
    now: datetime,
    trust: Trust | None = None,
    limits: ItemLimits = DEFAULT_LIMITS,
    sizes: OutputLimits | None = None,
) -> list[Processed]:
    """Decide and record one batch; returns one Processed per submission, in order.

    `trust` checks signatures; the worker always passes it, core tests may leave it out. `limits`
    bounds what validating one item may cost; `sizes`, when given, how large a delivery may be (one
    that is too large is decided `rejected`, rule `too-large`, before anything is recorded).
    """
    checked = admit_all(batch, trust, limits)
    keys, hashes = lookups(checked)
    with ledger.transaction():
        done = ledger.decided(item.submission_id for item in batch)
        known = Known(frozenset(done), ledger.seen(keys), ledger.hash_owners(hashes))
        decided = decide_all(batch, checked, known, policy, sizes)
        records = {r.submission_id: r for r in ledger.append(decided.fresh, decided.changed, now)}
    by_sid = {o.submission_id: o for o in decided.fresh}
    result, sent = [], set()
    for item, c in zip(batch, checked, strict=True):
        sid = item.submission_id
        if sid in done:
            readable = c if isinstance(c, Valid) else validate(item.value, limits)  # the keyring may have changed
            result.append(Processed(replayed_outcome(recorded(done[sid]), readable, policy), done[sid], True))
        else:
            result.append(Processed(by_sid[sid], records[sid], sid in sent))  # a second copy is a replay
            sent.add(sid)
    return result
