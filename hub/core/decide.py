"""The decisions of one batch, as pure functions: replay seal, ownership, dedupe, release policy, tag.

`decide_all` takes what the ledger already knows about a batch (`Known`: the recorded decisions of
its submission ids, the dedupe state of its keys, the owners of its content hashes) and returns
the fresh outcomes, the state they change and, for each message, the record that answers for it.
It touches no database and no broker: the worker's ledger transaction
(`hub.worker.batch.decide_batch`) reads `Known`, calls it, and appends what it returns. A message
already decided with the same bytes (a replay after a crash) is not decided again; a decided id
with other bytes is `rejected (sid-reuse)` (`hub.core.replay`).

    known = Known(decided={}, state={}, owners={})
    checked = admit_all(batch, trust)
    decided = decide_all(batch, checked, known, ReleasePolicy(), now)
    decided.fresh[0].decision  # Decision.DELIVERED
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from hub.core.admit import Submitted, admit, admit_all
from hub.core.copies import Comparison, compare, received, tokens
from hub.core.decision import Decision, Outcome
from hub.core.dedupe import FUTURE_SKEW, Seen, Verdict, dedupe, future_version, ownership
from hub.core.disclosure import open_document
from hub.core.misp_release import describe, release_envelope
from hub.core.policy import ReleasePolicy, release_check
from hub.core.replay import Recorded, reuse_id, sealed
from hub.core.route import delivery
from hub.core.sizes import OutputLimits
from hub.core.tag import machine_tags
from hub.core.validate import DEFAULT_LIMITS, Invalid, ItemLimits, Valid, validate
from schemas.common import Kind
from schemas.envelope import Envelope, MispEventEnvelope

__all__ = ["Decided", "Known", "Recorded", "Submitted", "admit", "admit_all", "decide_all", "decide_one"]
# Refusals for who sent an item: its content is never shown on a shared topic.
UNTRUSTED_RULES = frozenset({"unsigned", "unknown-key", "forged", "wrong-side", "wrong-originator", "invalid-sid"})
OWNER_RULES = frozenset({"not-owner", "future-version"})  # refusals of a valid item from a trusted key
# How far past the hub's version a receiving MISP's merges of copies may stamp an event: one second
# per merged copy (`connectors.misp.client`); ten copies of one version is already far more than seen.
MERGE_BUMPS = timedelta(seconds=10)


def _refused(sid: str, checked: Invalid) -> Outcome:
    hint = (checked.hint.kind, checked.hint.area, checked.hint.origin)
    public = checked.reason
    if checked.rule == "invalid":  # its reason may quote the content; shown only if the item is openly marked
        where = f"field `{checked.field}`" if checked.field else "the submission"
        public = f"{where} is invalid; the reason is in the hub's ledger (the item is not openly marked)"
    return Outcome(sid, Decision.REJECTED, checked.reason, checked.rule, hint=hint, public_reason=public)


def decide_one(
    sid: str,
    checked: Valid | Invalid,
    prior: Seen | None,
    owner: str | None,
    policy: ReleasePolicy,
    now: datetime,
    skew: timedelta = FUTURE_SKEW,
) -> Outcome:
    """The decision for one checked submission given its key's prior state and its content hash's `owner` key."""
    if isinstance(checked, Invalid):
        return _refused(sid, checked)
    env, digest = checked.envelope, checked.content_hash
    refusal = future_version(env, now, skew) or ownership(env, checked.owner, prior)
    if refusal is not None and refusal.rule == "not-owner" and _merged_echo(env, prior):
        reason = f"echo: the hub delivered this item into {env.origin}, where a merged copy was stamped newer"
        return Outcome(sid, Decision.DUPLICATE, reason, "echo", env, digest, submitter=checked.owner)
    if refusal is not None:
        shown = release_check(env, policy) is None  # its content could have crossed anyway
        return Outcome(
            sid, Decision.REJECTED, refusal.reason, refusal.rule, env, submitter=checked.owner, disclosable=shown
        )
    verdict = dedupe(env, digest, prior, owner, checked.owner)
    if verdict.is_duplicate:
        return Outcome(sid, Decision.DUPLICATE, verdict.reason, verdict.rule, env, digest, submitter=checked.owner)
    withhold = release_check(env, policy)
    if withhold is not None:
        return Outcome(sid, Decision.WITHHELD, withhold.reason, withhold.rule, env, digest, submitter=checked.owner)
    decision = Decision.UPDATED if verdict.is_update else Decision.DELIVERED
    shaped, shaped_hash, stripped = released(env, digest, policy)
    found = _another_copy(verdict, prior, shaped, shaped_hash)
    if found is not None and not found.crosses:
        return Outcome(sid, Decision.DUPLICATE, found.reason, found.rule, env, digest, submitter=checked.owner)
    rule, reason = (found.rule, found.reason) if found is not None else (verdict.rule, verdict.reason)
    tags = machine_tags(shaped)
    return Outcome(sid, decision, reason + stripped, rule, shaped, shaped_hash, tags, submitter=checked.owner)


def _another_copy(verdict: Verdict, prior: Seen | None, shaped: Envelope, shaped_hash: str) -> Comparison | None:
    """How another copy of the version last decided, released, compares with what crossed; None for any other."""
    if not verdict.compare or prior is None:
        return None
    version = shaped.version.isoformat()
    if not prior.held:  # every earlier copy of this version was withheld: this one is decided afresh
        rule = "newer-version" if verdict.is_update else "new"
        return Comparison(True, rule, f"version {version}: no earlier copy of it crossed (withheld); this one may")
    if shaped_hash == prior.content_hash:  # the very copy that crossed, resent
        return Comparison(False, "same-version", f"version {version} was already received")
    return compare(tokens(shaped), prior.held, isinstance(shaped, MispEventEnvelope), version)


def _merged_echo(env: Envelope, prior: Seen | None) -> bool:
    """A MISP event from the side the hub delivered it into, holding nothing the hub did not deliver.

    A sink that adds a fuller copy's parts to a MISP stamps the event one second past the hub's
    version (MISP takes nothing else); that MISP's own pull then sends it back, newer but not new.
    """
    if prior is None or not prior.held or not prior.delivered or env.origin is prior.origin:
        return False
    if env.version - prior.version > MERGE_BUMPS:
        return False  # beyond what the sinks' merges stamp: an edit of its own, refused `not-owner`
    return isinstance(env, MispEventEnvelope) and tokens(env) <= prior.held


def released(env: Envelope, digest: str, policy: ReleasePolicy) -> tuple[Envelope, str, str]:
    """What crosses: a MISP event shaped by MISP's per-hop rules, its hash, and what was stripped."""
    dest = policy.destination(env.origin.counterpart)
    if not isinstance(env, MispEventEnvelope) or dest is None:
        return env, digest, ""
    shaped, shaped_hash, stripped = release_envelope(env, digest, dest)
    return shaped, shaped_hash, describe(stripped)


def next_state(outcome: Outcome, prior: Seen | None, raw: str | None = None) -> Seen | None:
    """The key's dedupe state after `outcome`, or None when it does not change.

    `raw`, the content hash of the copy as received, is remembered when it crosses: resent, that very
    copy is then a duplicate at once, without the policy and MISP's shaping run again to tell.
    """
    env = outcome.envelope
    if env is None or outcome.content_hash is None or outcome.decision in (Decision.DUPLICATE, Decision.REJECTED):
        return None
    delivered = outcome.crosses or (prior is not None and prior.delivered)
    owner = prior.owner if prior is not None and prior.owner else outcome.submitter
    before = prior.held if prior is not None and prior.version == env.version and prior.held is not None else None
    if not outcome.crosses:  # withheld: the counterpart holds what it held of this version, if anything
        held = before or frozenset()
    elif isinstance(env, MispEventEnvelope) and before:  # sinks add parts by UUID: it ends with the union
        held = before | tokens(env)
    else:
        held = tokens(env)
    if outcome.crosses and raw is not None:
        held |= {received(raw)}
    return Seen(env.version, outcome.content_hash, env.origin, delivered, owner, held)


def replayed_outcome(recorded: Recorded, checked: Valid | Invalid, policy: ReleasePolicy, raw: bytes) -> Outcome:
    """Rebuild a recorded decision's outcome so its output can be sent again, as it was the first time."""
    decision = Decision(recorded.decision)
    if decision is Decision.REJECTED:
        if isinstance(checked, Invalid) and checked.rule == recorded.rule:
            redo = _refused(recorded.submission_id, checked)
            return replace(redo, reason=recorded.reason, disclosable=_disclosable(redo, raw))
        env = checked.envelope if isinstance(checked, Valid) and recorded.rule in OWNER_RULES else None
        shown = env is not None and release_check(env, policy) is None
        return Outcome(recorded.submission_id, decision, recorded.reason, recorded.rule, env, disclosable=shown)
    env = checked.envelope if isinstance(checked, Valid) else None
    tags: tuple[str, ...] = ()
    if env is not None and recorded.crossed:
        env = released(env, recorded.content_hash or "", policy)[0]  # the same bytes as the first time
        tags = machine_tags(env)
    return Outcome(recorded.submission_id, decision, recorded.reason, recorded.rule, env, recorded.content_hash, tags)


def _disclosable(outcome: Outcome, raw: bytes) -> bool:
    """Whether a refused item's content may appear on the shared topics: only what is openly marked."""
    if outcome.rule in UNTRUSTED_RULES or outcome.rule == "sid-reuse":
        return False  # untrusted: never parsed, never shown
    return outcome.rule == "invalid" and open_document(raw)


@dataclass(frozen=True)
class Known:
    """What the ledger already holds for one batch: recorded decisions, the keys' dedupe state, hash owners."""

    decided: Mapping[str, Recorded]  # submission id (and reuse id) -> its recorded decision
    state: Mapping[str, Seen]
    owners: Mapping[str, str]  # content hash -> key of an item that has it (assessments and notes)


@dataclass(frozen=True)
class Decided:
    """A batch's fresh outcomes, in order, the dedupe state they change, and the record id of each message."""

    fresh: list[Outcome]
    changed: dict[str, Seen] = field(default_factory=dict)
    record_ids: list[str] = field(default_factory=list)  # per message: the submission id of its record
    replayed: list[bool] = field(default_factory=list)  # per message: decided before (a replay), not now


def lookups(batch: Sequence[Submitted], checked: Sequence[Valid | Invalid]) -> tuple[list[str], list[str], list[str]]:
    """The record ids, item keys and content hashes whose ledger state `decide_all` needs."""
    ids = [i.submission_id for i in batch] + [reuse_id(i.submission_id, i.digest) for i in batch]
    valid = [c for c in checked if isinstance(c, Valid)]
    keys = [c.envelope.key for c in valid]
    hashes = [c.content_hash for c in valid if c.envelope.kind is not Kind.MISP_EVENT]
    return ids, keys, hashes


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
    now: datetime,
    skew: timedelta = FUTURE_SKEW,
    sizes: OutputLimits | None = None,
) -> Decided:
    """Decide every message of `batch` not already decided, each once, in order; deliveries sized by `sizes`."""
    state, owners = dict(known.state), dict(known.owners)
    decided = Decided([])
    recorded: dict[str, Recorded] = dict(known.decided)
    for item, c in zip(batch, checked, strict=True):
        digest = item.digest
        record_id = _record_id(item, digest, c, recorded, policy)
        decided.record_ids.append(record_id)
        decided.replayed.append(record_id in recorded)
        if record_id in recorded:
            continue  # decided in an earlier run or earlier in this batch, for these very bytes
        if record_id != item.submission_id:
            outcome = _reused(record_id, item.submission_id)
        else:
            key = c.envelope.key if isinstance(c, Valid) else None
            prior = state.get(key) if key else None
            owner = owners.get(c.content_hash) if isinstance(c, Valid) else None
            outcome = decide_one(item.submission_id, c, prior, owner, policy, now, skew)
            if sizes is not None and outcome.crosses:
                outcome = sized(outcome, sizes)  # too large for its inbox: rejected before anything is recorded
            new = next_state(outcome, prior, c.content_hash if isinstance(c, Valid) else None)
            if key and new is not None:
                state[key] = decided.changed[key] = new
                owners.setdefault(new.content_hash, key)
        outcome = replace(
            outcome, message_digest=digest, disclosable=outcome.disclosable or _disclosable(outcome, item.value)
        )
        decided.fresh.append(outcome)
        recorded[record_id] = _as_recorded(outcome)
    return decided


def _record_id(
    item: Submitted, digest: str, checked: Valid | Invalid, recorded: Mapping[str, Recorded], policy: ReleasePolicy
) -> str:
    """The submission id itself, unless it is already decided for other bytes: then this message's reuse id."""
    before = recorded.get(item.submission_id)
    if before is None:
        return item.submission_id
    now_hash = None
    if before.message_digest is None and isinstance(checked, Valid):  # a legacy record: compare what would cross
        now_hash = released(checked.envelope, checked.content_hash, policy)[1]
    return item.submission_id if sealed(before, digest, now_hash) else reuse_id(item.submission_id, digest)


def _reused(record_id: str, sid: str) -> Outcome:
    reason = (
        f"submission id {sid!r} was already decided for other bytes: a submission id answers for one message; "
        "publish with a new id"
    )
    return Outcome(record_id, Decision.REJECTED, reason, "sid-reuse")


def _as_recorded(o: Outcome) -> Recorded:
    env = o.envelope
    return Recorded(
        o.submission_id,
        o.decision.value,
        o.reason,
        o.rule,
        o.content_hash,
        o.message_digest,
        str(env.source_id) if env else None,
        env.version.isoformat() if env else None,
    )


def validated(item: Submitted, checked: Valid | Invalid, limits: ItemLimits = DEFAULT_LIMITS) -> Valid | Invalid:
    """`checked`, or the item validated without its signature: a replay's keyring may have changed since."""
    return checked if isinstance(checked, Valid) else validate(item.value, limits)
