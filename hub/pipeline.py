"""The batch core: validate, deduplicate, tag, apply the release policy, and record each decision once.

`decide_batch` is what every engine calls with the raw messages of one batch. Validation runs
outside the ledger's lock; the decisions and their records are made inside one transaction.
A submission the ledger already holds (a replay after a crash) is not decided again: its
recorded decision is returned so its output can be re-sent (at least once), never re-counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.decision import Decision, Outcome
from hub.dedupe import Seen, dedupe
from hub.keys import RegisteredKey
from hub.ledger import Ledger, Record
from hub.policy import ReleasePolicy, release_check
from hub.route import SID_HEADER
from hub.signing import Trust
from hub.tag import machine_tags
from hub.validate import Invalid, Valid, validate
from schemas.common import Kind
from schemas.envelope import Envelope, MispEventEnvelope


@dataclass(frozen=True)
class Submitted:
    """One message read from `hub.submitted`."""

    submission_id: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()  # the signature travels here (`hub-key`, `hub-sig`)

    @classmethod
    def of(
        cls,
        headers: Iterable[tuple[str, bytes | None]] | Mapping[str, bytes | None] | None,
        partition: int,
        offset: int,
        value: bytes | None,
    ) -> Submitted:
        """A Kafka record's submission: null header values and a null value read as empty bytes."""
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
        clean = tuple((str(k), bytes(v or b"")) for k, v in pairs)
        raw = value or b""
        return cls(submission_id(clean, partition, offset, raw), raw, clean)


def submission_id(headers: tuple[tuple[str, bytes], ...], partition: int, offset: int, value: bytes) -> str:
    """The publisher's submission id, or one derived from the message for foreign producers."""
    for name, raw in headers:
        if name == SID_HEADER and raw:
            return raw.decode("utf-8", "replace")[:200]
    return f"raw:{hashlib.sha256(value).hexdigest()[:32]}:{partition}:{offset}"


@dataclass(frozen=True)
class Processed:
    """A submission's outcome, its ledger record, and whether it was decided in an earlier run."""

    outcome: Outcome
    record: Record
    replayed: bool


def decide_one(
    sid: str, checked: Valid | Invalid, prior: Seen | None, owner: str | None, policy: ReleasePolicy
) -> Outcome:
    """The decision for one checked submission given its key's prior state (pure)."""
    if isinstance(checked, Invalid):
        hint = (checked.hint.kind, checked.hint.area, checked.hint.origin)
        return Outcome(sid, Decision.REJECTED, checked.reason, checked.rule, hint=hint)
    env, digest = checked.envelope, checked.content_hash
    verdict = dedupe(env, digest, prior, owner)
    if verdict.is_duplicate:
        return Outcome(sid, Decision.DUPLICATE, verdict.reason, verdict.rule, env, digest)
    withhold = release_check(env, policy)
    if withhold is not None:
        return Outcome(sid, Decision.WITHHELD, withhold.reason, withhold.rule, env, digest)
    decision = Decision.UPDATED if verdict.is_update else Decision.DELIVERED
    env, digest, stripped = released(env, digest, policy)
    return Outcome(sid, decision, verdict.reason + stripped, verdict.rule, env, digest, machine_tags(env))


def released(env: Envelope, digest: str, policy: ReleasePolicy) -> tuple[Envelope, str, str]:
    """What crosses: a MISP event shaped by MISP's per-hop rules, its hash, and what was stripped (pure)."""
    if not isinstance(env, MispEventEnvelope):
        return env, digest, ""
    from connectors.misp.release import release_envelope

    return release_envelope(env, digest, policy.names(env.origin.counterpart))


def next_state(outcome: Outcome, prior: Seen | None) -> Seen | None:
    """The key's dedupe state after `outcome`, or None when it does not change."""
    env = outcome.envelope
    if env is None or outcome.content_hash is None or outcome.decision is Decision.DUPLICATE:
        return None
    delivered = outcome.crosses or (prior is not None and prior.delivered)
    return Seen(env.version, outcome.content_hash, env.origin, delivered)


def replayed_outcome(record: Record, checked: Valid | Invalid, policy: ReleasePolicy | None = None) -> Outcome:
    """Rebuild a recorded decision's outcome so its output can be sent again."""
    env = checked.envelope if isinstance(checked, Valid) else None
    if env is not None and policy is not None and record.decision in ("delivered", "updated"):
        env = released(env, record.content_hash or "", policy)[0]  # the same bytes as the first time
    tags = machine_tags(env) if env is not None and record.decision in ("delivered", "updated") else ()
    return Outcome(
        record.submission_id, Decision(record.decision), record.reason, record.rule, env, record.content_hash, tags
    )


def admit(item: Submitted, trust: Trust | None) -> Valid | Invalid:
    """The way in for one submission (see `admit_all`)."""
    return admit_all([item], trust)[0]


def admit_all(batch: Sequence[Submitted], trust: Trust | None) -> list[Valid | Invalid]:
    """The way in: the signature (when `trust` is given), the envelope, then its claims against the key.

    Signatures are checked on the verifying threads while this thread validates the same items.
    """
    if trust is None:
        return [validate(item.value) for item in batch]
    keys = trust.verify_many([(item.value, item.headers) for item in batch])
    checked = [validate(item.value) for item in batch]
    return [_claims(key, c, trust) for key, c in zip(keys(), checked, strict=True)]


def _claims(key: RegisteredKey | Invalid | None, checked: Valid | Invalid, trust: Trust) -> Valid | Invalid:
    if isinstance(key, Invalid):
        return key  # an untrusted item is refused for its signature, whatever its content
    if key is None or isinstance(checked, Invalid):
        return checked
    return trust.check_claims(checked, key)


def decide_batch(
    ledger: Ledger, batch: Sequence[Submitted], policy: ReleasePolicy, now: datetime, trust: Trust | None = None
) -> list[Processed]:
    """Decide and record one batch; returns one Processed per submission, in order.

    `trust` checks signatures; the worker always passes it, core tests may leave it out.
    """
    checked = admit_all(batch, trust)
    valid = [c for c in checked if isinstance(c, Valid)]
    with ledger.transaction():
        done = ledger.decided(item.submission_id for item in batch)
        state = ledger.seen(c.envelope.key for c in valid)
        owners = ledger.hash_owners(c.content_hash for c in valid if c.envelope.kind is not Kind.MISP_EVENT)
        fresh: list[Outcome] = []
        changed: dict[str, Seen] = {}
        sids: set[str] = set()
        for item, c in zip(batch, checked, strict=True):
            if item.submission_id in done or item.submission_id in sids:
                continue  # decided in an earlier run, or sent twice in this batch: decide once
            sids.add(item.submission_id)
            key = c.envelope.key if isinstance(c, Valid) else None
            prior = state.get(key) if key else None
            owner = owners.get(c.content_hash) if isinstance(c, Valid) else None
            outcome = decide_one(item.submission_id, c, prior, owner, policy)
            fresh.append(outcome)
            new = next_state(outcome, prior)
            if key and new is not None:
                state[key] = changed[key] = new
                owners.setdefault(new.content_hash, key)
        records = {r.submission_id: r for r in ledger.append(fresh, changed, now)}
    by_sid = {o.submission_id: o for o in fresh}
    result = []
    for item, c in zip(batch, checked, strict=True):
        sid = item.submission_id
        if sid in done:
            readable = c if isinstance(c, Valid) else validate(item.value)  # the keyring may have changed since
            result.append(Processed(replayed_outcome(done[sid], readable, policy), done[sid], True))
        else:
            result.append(Processed(by_sid[sid], records[sid], sid not in sids))
            sids.discard(sid)  # a second copy of this sid in the batch is a replay
    return result
