"""Sealed replays: a decided submission id answers only for the bytes it was decided for.

A message whose submission id is already decided is a replay (after a crash, a rebalance, a
publisher's retry) only when its digest (value and signature headers, `hub.core.admit.message_digest`)
equals the one recorded with the decision; then its recorded decision is re-sent, never re-decided.
Anything else under a known id is refused as `sid-reuse` and recorded under an id of its own,
`reuse:<digest>:<sid>`, so that it never takes the recorded decision's place and its own replays
are recognised in turn. Submission ids are public (every inbox message and `hub.decisions` carry
them), so without the seal anyone could pair a recorded decision with bytes of their choosing.

Records written before digests were kept (ledger schema 1) carry none: such a record is a replay
only when re-sending it cannot carry anything new, that is when it did not cross, or when the item
released now has exactly the recorded content hash.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.decision import Decision

REUSE_PREFIX = "reuse:"  # outside the publishers' alphabet (`hub.core.admit.SID_PATTERN`): nobody can claim one
REUSE_DIGEST_HEX = 32  # 128 bits of the digest: distinct reuses of one id never share a record id


@dataclass(frozen=True)
class Recorded:
    """The fields of a recorded decision that a replay needs: the seal, and what its re-sent output carries."""

    submission_id: str
    decision: str
    reason: str
    rule: str
    content_hash: str | None
    message_digest: str | None = None  # None for records written before digests were kept
    source_id: str | None = None
    version: str | None = None

    @property
    def crossed(self) -> bool:
        """True when the recorded decision sent the item to the counterpart's inbox."""
        return self.decision in (Decision.DELIVERED, Decision.UPDATED)


def reuse_id(submission_id: str, digest: str) -> str:
    """The record id of a message that reused `submission_id` with other bytes (digest `digest`)."""
    return f"{REUSE_PREFIX}{digest[:REUSE_DIGEST_HEX]}:{submission_id}"


def sealed(recorded: Recorded, digest: str, released_hash: str | None) -> bool:
    """True when a message with `digest` is a replay of `recorded`.

    `released_hash`: the content hash the message's item would cross with now (None if it would not
    validate); consulted only for records without a digest.
    """
    if recorded.message_digest is not None:
        return recorded.message_digest == digest
    if not recorded.crossed:
        return True  # a legacy record that crossed nothing: re-sending it sends nothing to an inbox
    return released_hash is not None and released_hash == recorded.content_hash
