"""Verification of the ledger: the hash chain end to end, contiguous sequence numbers, counts equal a recount.

A record edited, deleted or inserted by hand (past the append-only triggers) breaks one of these, and
`verify` raises ChainBroken naming the first bad record by its seq and submission id. Deleting the
last records and fixing the counts to match leaves no trace inside the database: an anchor (a
report's head, `seq:hash`, kept outside) catches that too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.errors import ChainBroken, InputError
from hub.ledger import GENESIS, CountRow, Ledger, Record


@dataclass(frozen=True)
class Verified:
    """What a successful verification covered."""

    records: int
    head: tuple[int, str]
    count_rows: int


def check_chain(records: Iterable[Record]) -> tuple[int, str]:
    """Walk `records` in seq order; the head (seq, hash), or ChainBroken at the first bad record."""
    seq, prev = 0, GENESIS
    for r in records:
        who = f"record seq {r.seq} (submission {r.submission_id})"
        if r.seq != seq + 1:
            missing = f"seq {seq + 1}" if r.seq == seq + 2 else f"seq {seq + 1} to {r.seq - 1}"
            raise ChainBroken(
                f"record {missing} missing: the chain jumps from seq {seq} to {who}; deleted from the database",
                seq + 1,
            )
        if r.hash != r.expected_hash():
            raise ChainBroken(f"{who}: its hash does not match its content; edited after it was written", r.seq)
        if r.prev_hash != prev:
            raise ChainBroken(
                f"{who}: its prev_hash is not the hash of seq {seq}; one of the two was edited or replaced", r.seq
            )
        seq, prev = r.seq, r.hash
    return seq, prev


def check_counts(live: list[CountRow], recount: list[CountRow], head_seq: int) -> None:
    """ChainBroken unless the live counts equal the recount from the records; names the first differing key."""
    have = {r[:5]: r[5] for r in live}
    want = {r[:5]: r[5] for r in recount}
    for key in sorted(set(have) | set(want)):
        if have.get(key, 0) != want.get(key, 0):
            where = ", ".join(key)
            why = (
                f"records after seq {head_seq} were deleted, or the counts edited"
                if have.get(key, 0) > want.get(key, 0)
                else "the counts were edited, or records added without counting"
            )
            raise ChainBroken(
                f"live counts for ({where}) say {have.get(key, 0)} but the ledger records hold "
                f"{want.get(key, 0)}: {why}"
            )


def parse_anchor(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as printed by `hub audit verify` or a report; InputError if malformed."""
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError(f"{text!r} is not SEQ:HASH (a record number and a 64-hex-digit hash)", field="anchor")
    return int(seq), digest


def check_anchor(ledger: Ledger, anchor: tuple[int, str], head_seq: int) -> None:
    """ChainBroken unless record `anchor[0]` is still in the chain with hash `anchor[1]`."""
    seq, digest = anchor
    found = next(iter(ledger.records(after_seq=seq - 1, batch=1)), None)
    if found is None or found.seq != seq:
        raise ChainBroken(f"record seq {seq} of the anchor is missing: the ledger ends at seq {head_seq}", seq)
    if found.hash != digest:
        raise ChainBroken(f"record seq {seq} (submission {found.submission_id}) no longer has the anchor's hash", seq)


def verify(ledger: Ledger, anchor: tuple[int, str] | None = None) -> Verified:
    """Check the whole ledger; Verified, or ChainBroken naming the first problem."""
    head = check_chain(ledger.records())
    if anchor is not None:
        check_anchor(ledger, anchor, head[0])
    live, recount = ledger.counts(), ledger.recount()
    check_counts(live, recount, head[0])
    return Verified(records=head[0], head=head, count_rows=len(recount))
