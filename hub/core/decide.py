"""The decisions of one batch, as pure functions: admit, deduplicate, apply the release policy, tag.

`decide_all` takes what the ledger already knows about a batch (`Known`: decided submission ids,
the dedupe state of its keys, the owners of its content hashes) and returns the fresh outcomes and
the state they change. It touches no database and no broker: the worker's ledger transaction
(`hub.worker.batch.decide_batch`) reads `Known`, calls it, and appends what it returns. A
submission already decided (a replay after a crash) is not decided again.

    known = Known(decided=frozenset(), state={}, owners={})
    decided = decide_all(batch, admit_all(batch, trust), known, ReleasePolicy())
    decided.fresh[0].decision  # Decision.DELIVERED
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from hub.core.decision import Decision, Outcome
from hub.core.dedupe import Seen, dedupe
from hub.core.keys import RegisteredKey
from hub.core.misp_release import release_envelope
from hub.core.policy import ReleasePolicy, release_check
from hub.core.route import SID_HEADER, delivery
from hub.core.signing import Trust
from hub.core.sizes import OutputLimits
from hub.core.tag import machine_tags
from hub.core.validate import DEFAULT_LIMITS, Invalid, ItemLimits, Valid, validate
from schemas.common import Kind
from schemas.envelope import Envelope, MispEventEnvelope


@dataclass(frozen=True)
class Submitted:
    """One message read from `hub.submitted`."""

    submission_id: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()  # the signature travels here (`hub-key`, `hub-sig`)
    refused: tuple[str, str] | None = None  # (rule, reason) when the worker refused it unread (too large)

    @classmethod
    def of(
        cls,
        headers: Iterable[tuple[str, bytes | None]] | Mapping[str, bytes | None] | None,
        partition: int,
        offset: int,
        value: bytes | None,
        refused: tuple[str, str] | None = None,
    ) -> Submitted:
        """A Kafka record's submission: null header values and a null value read as empty bytes.

        `refused`: (rule, reason) of a record the consumer refused before reading it (a batch that
        inflates past the ceiling, or one that cannot be read); it is rejected for that alone.
        """
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
        clean = tuple((str(k), bytes(v or b"")) for k, v in pairs)
        raw = value or b""
        return cls(submission_id(clean, partition, offset, raw), raw, clean, refused)


def submission_id(headers: tuple[tuple[str, bytes], ...], partition: int, offset: int, value: bytes) -> str:
    """The publisher's submission id, or one derived from the message for foreign producers."""
    for name, raw in headers:
        if name == SID_HEADER and raw:
            return raw.decode("utf-8", "replace")[:200]
    return f"raw:{hashlib.sha256(value).hexdigest()[:32]}:{partition}:{offset}"


def decide_one(
    sid: str, checked: Valid | Invalid, prior: Seen | None, owner: str | None, policy: ReleasePolicy
) -> Outcome:
    """The decision for one checked submission given its key's prior state."""
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
    """What crosses: a MISP event shaped by MISP's per-hop rules, its hash, and what was stripped."""
    if not isinstance(env, MispEventEnvelope):
        return env, digest, ""
    return release_envelope(env, digest, policy.names(env.origin.counterpart))


def next_state(outcome: Outcome, prior: Seen | None) -> Seen | None:
    """The key's dedupe state after `outcome`, or None when it does not change."""
    env = outcome.envelope
    if env is None or outcome.content_hash is None or outcome.decision in (Decision.DUPLICATE, Decision.REJECTED):
        return None
    delivered = outcome.crosses or (prior is not None and prior.delivered)
    return Seen(env.version, outcome.content_hash, env.origin, delivered)


@dataclass(frozen=True)
class Recorded:
    """The fields of a recorded decision that its re-sent output needs."""

    submission_id: str
    decision: str
    reason: str
    rule: str
    content_hash: str | None


def replayed_outcome(recorded: Recorded, checked: Valid | Invalid, policy: ReleasePolicy | None = None) -> Outcome:
    """Rebuild a recorded decision's outcome so its output can be sent again."""
    env = checked.envelope if isinstance(checked, Valid) else None
    crosses = recorded.decision in (Decision.DELIVERED, Decision.UPDATED)
    if env is not None and policy is not None and crosses:
        env = released(env, recorded.content_hash or "", policy)[0]  # the same bytes as the first time
    tags = machine_tags(env) if env is not None and crosses else ()
    decision = Decision(recorded.decision)
    return Outcome(recorded.submission_id, decision, recorded.reason, recorded.rule, env, recorded.content_hash, tags)


def admit(item: Submitted, trust: Trust | None) -> Valid | Invalid:
    """The way in for one submission (see `admit_all`)."""
    return admit_all([item], trust)[0]


def admit_all(
    batch: Sequence[Submitted], trust: Trust | None, limits: ItemLimits = DEFAULT_LIMITS
) -> list[Valid | Invalid]:
    """The way in: the signature (when `trust` is given), the envelope, then its claims against the key.

    Signatures are checked on the verifying threads while this thread validates the same items. A
    submission the worker refused unread is rejected for that, at no further cost.
    """
    if any(item.refused for item in batch):
        readable = iter(admit_all([item for item in batch if not item.refused], trust, limits))
        return [Invalid("", i.refused[1], rule=i.refused[0]) if i.refused else next(readable) for i in batch]
    if trust is None:
        return [validate(item.value, limits) for item in batch]
    keys = trust.verify_many([(item.value, item.headers) for item in batch])
    checked = [validate(item.value, limits) for item in batch]
    return [_claims(key, c, trust) for key, c in zip(keys(), checked, strict=True)]


def _claims(key: RegisteredKey | Invalid | None, checked: Valid | Invalid, trust: Trust) -> Valid | Invalid:
    if isinstance(key, Invalid):
        return key  # an untrusted item is refused for its signature, whatever its content
    if key is None or isinstance(checked, Invalid):
        return checked
    return trust.check_claims(checked, key)


@dataclass(frozen=True)
class Known:
    """What the ledger already holds for one batch: decided ids, the keys' dedupe state, hash owners."""

    decided: frozenset[str]
    state: Mapping[str, Seen]
    owners: Mapping[str, str]  # content hash -> key of an item that has it (assessments and notes)


@dataclass(frozen=True)
class Decided:
    """A batch's fresh outcomes, in order, and the dedupe state they change."""

    fresh: list[Outcome]
    changed: dict[str, Seen] = field(default_factory=dict)


def lookups(checked: Sequence[Valid | Invalid]) -> tuple[list[str], list[str]]:
    """The item keys and the content hashes whose ledger state `decide_all` needs."""
    valid = [c for c in checked if isinstance(c, Valid)]
    keys = [c.envelope.key for c in valid]
    hashes = [c.content_hash for c in valid if c.envelope.kind is not Kind.MISP_EVENT]
    return keys, hashes


def sized(outcome: Outcome, sizes: OutputLimits) -> Outcome:
    """A crossing outcome with its inbox bytes made; rejected (`too-large`) when the inbox cannot take them.

    Decided before the ledger records it, so the ledger never says `delivered` for a message the
    broker would refuse.
    """
    out = delivery(outcome)
    if out is None:
        return outcome
    problem = sizes.problem(out)
    if problem is None:
        return replace(outcome, delivered_json=out.value)
    reason = f"the delivery to {out.topic} would be {problem}; it is not delivered"
    return replace(outcome, decision=Decision.REJECTED, reason=reason, rule="too-large", tags=())


def decide_all(
    batch: Sequence[Submitted],
    checked: Sequence[Valid | Invalid],
    known: Known,
    policy: ReleasePolicy,
    sizes: OutputLimits | None = None,
) -> Decided:
    """Decide every submission of `batch` not already decided, each once, in order; deliveries sized by `sizes`."""
    state, owners = dict(known.state), dict(known.owners)
    decided = Decided([])
    sids: set[str] = set()
    for item, c in zip(batch, checked, strict=True):
        if item.submission_id in known.decided or item.submission_id in sids:
            continue  # decided in an earlier run, or sent twice in this batch: decide once
        sids.add(item.submission_id)
        key = c.envelope.key if isinstance(c, Valid) else None
        prior = state.get(key) if key else None
        owner = owners.get(c.content_hash) if isinstance(c, Valid) else None
        outcome = decide_one(item.submission_id, c, prior, owner, policy)
        if sizes is not None and outcome.crosses:
            outcome = sized(outcome, sizes)
        decided.fresh.append(outcome)
        new = next_state(outcome, prior)
        if key and new is not None:
            state[key] = decided.changed[key] = new
            owners.setdefault(new.content_hash, key)
    return decided
