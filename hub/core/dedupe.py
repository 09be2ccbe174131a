"""Deduplication and ownership: exact, by identity and version, against state the ledger keeps durable.

MISP events follow MISP's rule (strictly newer timestamp is an update, equal or older a
duplicate), except that another copy of the version last decided, with other content, is left to
its content (`hub.core.copies`): a fuller copy crosses, a filtered one does not. Assessments and
notes are also compared by canonical content hash, so the same content resent under a new id or a
new modified time is a duplicate.

Ownership follows MISP's sync, which refuses a remote edit to an event created locally: an item
belongs to the side and organisation whose verified key first submitted it (`Seen.owner`), and a
newer version from anyone else is refused (`not-owner`); the same or an older version from the
other side stays a duplicate (`echo`). A MISP event's `Orgc` plays no part: it names the event's
creator, and CERTs relay events created by others. A version dated more than the allowed skew
ahead of the hub's clock is refused (`future-version`): otherwise whoever claimed an id first with
a version in 9999 would turn every genuine later version into a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.core.copies import RECEIVED
from hub.core.keys import org_key
from schemas.common import Kind, Side
from schemas.envelope import Envelope


@dataclass(frozen=True)
class Seen:
    """What the hub last decided about one item key."""

    version: datetime
    content_hash: str
    origin: Side
    delivered: bool  # the counterpart holds some version of it
    owner: str | None = None  # `SIDE:organisation` that first submitted it; None for state kept before owners
    # What the counterpart holds of `version` (`hub.core.copies.tokens`, plus the `received` hash of each copy
    # that crossed): empty when no copy of it crossed (all withheld); None for state kept before copies
    # were compared, where equal versions stay duplicates.
    held: frozenset[str] | None = None


@dataclass(frozen=True)
class Verdict:
    """Dedupe's answer: `is_duplicate`, else whether the item is new or an update."""

    is_duplicate: bool
    is_update: bool
    rule: str
    reason: str
    compare: bool = False  # another copy of the version last decided: the content decides, after the policy


NEW = Verdict(False, False, "new", "new item")
FUTURE_SKEW = timedelta(minutes=15)  # the default clock skew allowed: NTP-synchronised hosts are far closer


@dataclass(frozen=True)
class Refusal:
    """A valid item refused for who sent it or when it claims to be from: the rule and why."""

    rule: str
    reason: str


def same_identity(a: str, b: str) -> bool:
    """True when two `SIDE:organisation` identities name the same submitter (case and spacing aside)."""
    return org_key(a) == org_key(b)


def future_version(envelope: Envelope, now: datetime, skew: timedelta = FUTURE_SKEW) -> Refusal | None:
    """`future-version` when the item's version is more than `skew` ahead of `now`, else None."""
    if envelope.version <= now + skew:
        return None
    what = "Event.timestamp" if envelope.kind is Kind.MISP_EVENT else "version"
    return Refusal(
        "future-version",
        f"field `{what}`: {envelope.version.isoformat()} is more than {skew} ahead of the hub's clock "
        f"({now.isoformat(timespec='seconds')})",
    )


def owns(prior: Seen, submitter: str | None) -> bool:
    """Whether `submitter` owns the item of `prior`: the one reading of ownership, for new versions and copies.

    The owner is who first submitted it; for state kept before owners, the side that holds it (which
    may update it, and then owns it).
    """
    if submitter is None:
        return False
    if prior.owner is not None:
        return same_identity(prior.owner, submitter)
    return submitter.partition(":")[0] == prior.origin.value


def ownership(envelope: Envelope, submitter: str, prior: Seen | None) -> Refusal | None:
    """`not-owner` when `submitter` sends a newer version of an item someone else first submitted, else None."""
    if prior is None or envelope.version <= prior.version:
        return None  # new, or not newer: dedupe decides (an echo, a duplicate)
    if owns(prior, submitter):
        return None
    owner = prior.owner if prior.owner is not None else f"the {prior.origin} side"
    return Refusal(
        "not-owner",
        f"{envelope.key} belongs to {owner}, who first submitted it; {submitter} may not send a newer version",
    )


def dedupe(
    envelope: Envelope, digest: str, prior: Seen | None, hash_owner: str | None, submitter: str | None = None
) -> Verdict:
    """Classify one valid envelope against the prior state of its key and its content hash.

    A copy of the version last decided, with other content, from the item's owner (`submitter`),
    is left to the content (`compare`, `hub.core.copies`); from anyone else it stays a duplicate, so
    nobody but the owner can add parts to an item.
    """
    hashed = envelope.kind is not Kind.MISP_EVENT
    if prior is None:
        if hashed and hash_owner is not None and hash_owner != envelope.key:
            return Verdict(True, False, "same-content", f"same content as {hash_owner}")
        return NEW
    v = envelope.version.isoformat()
    if envelope.origin is not prior.origin and prior.delivered and envelope.version <= prior.version:
        return Verdict(True, False, "echo", f"echo: the hub delivered this item into {envelope.origin}")
    if envelope.version < prior.version:
        return Verdict(True, False, "older-version", f"version {v} is older than {prior.version.isoformat()}")
    if envelope.version == prior.version:
        legacy = prior.held is None  # state from before copies were compared: MISP's rule alone
        resent = digest == prior.content_hash or (prior.held is not None and RECEIVED + digest in prior.held)
        if legacy or resent or not owns(prior, submitter):
            return Verdict(True, False, "same-version", f"version {v} was already received")
        return Verdict(False, prior.delivered, "other-copy", f"version {v}: another copy", compare=True)
    if hashed and digest == prior.content_hash:
        return Verdict(True, False, "same-content", f"version {v} has the same content as the one received")
    if prior.delivered:
        return Verdict(False, True, "newer-version", f"version {v} is newer than {prior.version.isoformat()}")
    return Verdict(False, False, "newer-version", f"version {v} is newer; no earlier version crossed")
