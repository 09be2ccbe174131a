"""Ledger records and their hash chain: each record's hash covers its fields and the previous hash.

Fields added after the first schema (`submitter`, `message_digest`, then `chain`, `chain_seq`) are
covered by the hash when they hold a value and left out of it when they are null, so records
written before they existed keep their hashes, and blanking one in a newer record breaks the chain.

Since schema 5 there is one chain per partition of `hub.submitted`: a record's `prev_hash` is the
hash of the record before it in its own chain (`chain`, `chain_seq`), and `seq`, unique over the
whole ledger, orders the records of all chains as they were committed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields

from hub.core.canonical import canonical_bytes

GENESIS = "0" * 64  # the `prev_hash` of the first record


@dataclass(frozen=True)
class Record:
    """One decision as the ledger holds it."""

    seq: int
    submission_id: str
    decided_at: str  # ISO 8601, UTC
    day: str  # YYYY-MM-DD of decided_at
    kind: str
    area: str
    direction: str
    decision: str
    rule: str
    reason: str
    originator: str | None
    source_id: str | None
    version: str | None
    content_hash: str | None
    tags: str  # JSON array
    prev_hash: str
    hash: str
    submitter: str | None = None  # `SIDE:organisation` of the key that signed it (schema 2)
    message_digest: str | None = None  # the message's seal: a replay must match it (schema 2)
    chain: int | None = None  # the input partition whose chain holds it; None: written before schema 5, chain 0
    chain_seq: int | None = None  # its place in that chain from 1; None: before schema 5, its place is `seq`

    @property
    def place(self) -> tuple[int, int]:
        """(chain, place in the chain): a record written before chains existed is chain 0 at its seq."""
        if self.chain is None or self.chain_seq is None:
            return 0, self.seq
        return self.chain, self.chain_seq

    def body(self) -> dict[str, object]:
        """The fields the chain hash covers: all but the two hashes; a later field only when it holds a value."""
        body = {name: getattr(self, name) for name in _BODY}
        body.update((name, getattr(self, name)) for name in LATER_FIELDS if getattr(self, name) is not None)
        return body

    def expected_hash(self) -> str:
        """The hash this record must carry given its fields and `prev_hash`."""
        return chain_hash(self.prev_hash, self.body())

    def as_json(self) -> dict[str, object]:
        """The record for JSON output, tags decoded."""
        data = {name: getattr(self, name) for name in COLUMNS}  # every field is a scalar: asdict's deep copy is waste
        data["tags"] = json.loads(self.tags)
        return data


COLUMNS = tuple(f.name for f in fields(Record))
LATER_FIELDS = ("submitter", "message_digest", "chain", "chain_seq")  # added by schemas 2 and 4: hashed when set
_BODY = tuple(c for c in COLUMNS if c not in ("prev_hash", "hash", *LATER_FIELDS))


def chain_hash(prev_hash: str, body: dict[str, object]) -> str:
    """SHA-256 of the previous hash and the record's canonical JSON."""
    # Record bodies hold strings, small integers and None: nothing the re-parse check could catch.
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical_bytes(body, plain=True)).hexdigest()


COUNT_KEYS = ("day", "area", "kind", "direction", "decision")
"""The dimensions of the live counts."""

CountRow = tuple[str, str, str, str, str, int]
"""(day, area, kind, direction, decision, n)."""
