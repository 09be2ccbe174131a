"""Decisions: every submission ends in exactly one, with a reason a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from schemas.common import Side
from schemas.envelope import Envelope


class Decision(StrEnum):
    """The five possible ends of a submission."""

    DELIVERED = "delivered"  # new to the counterpart
    UPDATED = "updated"  # a strictly newer version of a delivered item
    DUPLICATE = "duplicate"  # already seen: same or older version, same content, or an echo
    WITHHELD = "withheld"  # the release policy says it may not cross
    REJECTED = "rejected"  # invalid or untrusted


UNKNOWN = "unknown"  # area, kind or direction of an item too broken to say


@dataclass(frozen=True)
class Outcome:
    """One submission's decision and what the ledger records about it."""

    submission_id: str
    decision: Decision
    reason: str
    rule: str
    envelope: Envelope | None = None
    content_hash: str | None = None
    tags: tuple[str, ...] = field(default=())
    hint: tuple[str, str, str] = (UNKNOWN, UNKNOWN, UNKNOWN)  # kind, area, origin read from a rejected item
    submitter: str | None = None  # `SIDE:organisation` of the verified key (or the claim, when unsigned is allowed)
    message_digest: str | None = None  # the message's seal (`hub.core.admit.message_digest`)
    disclosable: bool = False  # a refused item's content may appear on the shared topics (`hub.core.disclosure`)
    public_reason: str | None = None  # the reason as the shared topics give it, when the full one may quote content
    delivered_json: bytes | None = field(default=None, compare=False, repr=False)  # the inbox bytes, once made

    @property
    def kind(self) -> str:
        """The item's kind, or `unknown` for an unreadable one."""
        return str(self.envelope.kind) if self.envelope else self.hint[0]

    @property
    def area(self) -> str:
        """The item's proposal area, or `unknown`."""
        return str(self.envelope.area) if self.envelope else self.hint[1]

    @property
    def direction(self) -> str:
        """`EU->NATO`, `NATO->EU`, or `unknown`."""
        origin = self.envelope.origin if self.envelope else self.hint[2]
        if origin == UNKNOWN:
            return UNKNOWN
        return f"{origin}->{Side(origin).counterpart}"

    @property
    def crosses(self) -> bool:
        """True when the item goes to the counterpart's inbox."""
        return self.decision in (Decision.DELIVERED, Decision.UPDATED)
