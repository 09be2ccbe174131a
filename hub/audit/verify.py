"""Verification of the ledger: the chain end to end, against the hub's signed checkpoints, and what it derives.

Checked, naming the first bad record by its seq and submission id (ChainBroken):
- every record's fields are of their type (a BLOB or a number where text belongs is named, not a
  traceback), its hash follows from its content and the previous hash in its chain (one chain per
  partition of `hub.submitted` since schema 5; the records before it are chain 0), and no place in
  any chain is missing; the `chain_heads` table names each chain's last record;
- every checkpoint given (signed by the hub's own key, kept outside the database) is genuine and its
  records (the newest, and each chain's head) still have the hashes the hub signed: an edit
  re-hashed to the end of a chain, or records deleted from its end, is caught by any checkpoint
  signed after the edited record;
- the dedupe state (`items`, which decides future submissions) equals a recomputation from the records;
- the live counts equal a recount from the records.
What it cannot catch: a rewrite of records newer than the last checkpoint (re-hashed, the counts and
the dedupe state fixed to match), since nothing outside the database vouches for them yet; and a
rewrite by someone holding the hub's private key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from hub.core.keys import Keyring
from hub.errors import ChainBroken, InputError
from hub.ledger import GENESIS, CountRow, Ledger, Record
from hub.ledger.checkpoints import Checkpoint

CROSSING = ("delivered", "updated")
KEEPS_STATE = ("duplicate", "rejected")  # decisions that leave an item's dedupe state as it was
_TYPES = {f.name: f.type for f in fields(Record)}
ItemState = tuple[Any, ...]


@dataclass(frozen=True)
class Verified:
    """What a successful verification covered."""

    records: int
    head: tuple[int, str]
    count_rows: int
    checkpoints: int = 0
    items: int = 0
    chains: int = 0


def field_problem(r: Record) -> str | None:
    """The first field of a record that is not of its type (a BLOB, a number for text...), as a phrase."""
    for name, kind in _TYPES.items():
        value = getattr(r, name)
        expected = int if str(kind).split(" ")[0] == "int" else str
        if value is None and "None" in str(kind):
            continue
        if not isinstance(value, expected) or isinstance(value, bool):
            shown = (
                f"a BLOB of {len(value)} bytes"
                if isinstance(value, bytes | bytearray | memoryview)
                else type(value).__name__
            )
            return f"field `{name}` holds {shown} where {'a number' if expected is int else 'text'} belongs"
    return None


def _who(r: Record) -> str:
    sid = r.submission_id if isinstance(r.submission_id, str) else "unreadable"
    seq = r.seq if isinstance(r.seq, int) else repr(r.seq)[:40]
    return f"record seq {seq} (submission {sid[:200]})"


Heads = dict[int, tuple[int, str]]  # chain -> (place of its last record, its hash)


def _place(r: Record) -> str:
    """How a message names a record's place: its seq while its chain's places are the seqs (one chain)."""
    chain, place = r.place
    return f"seq {r.seq}" if chain == 0 and place == r.seq else f"record {place} of chain {chain}"


def check_chain(records: Iterable[Record], heads: Heads | None = None) -> tuple[int, str]:
    """Walk `records` in seq order, each chain on its own; the newest (seq, hash), or ChainBroken at the first fault.

    `heads`, when given, receives each chain's last (place, hash).
    """
    walked: Heads = {} if heads is None else heads
    last: dict[int, Record] = {}
    newest = (0, GENESIS)
    for r in records:
        who = _who(r)
        malformed = field_problem(r)
        if malformed is not None:
            raise ChainBroken(f"{who}: {malformed}; written by hand, not by the hub", newest[0] + 1)
        chain, place = r.place
        before, prev = walked.get(chain, (0, GENESIS))
        if place != before + 1:
            shown = _gap(chain, before, place, r.seq)
            since = f"seq {last[chain].seq}" if chain in last else "its start"
            raise ChainBroken(
                f"{shown} missing: the chain jumps from {since} to {who}; deleted from the database",
                last[chain].seq + 1 if chain in last else r.seq,
            )
        if r.hash != r.expected_hash():
            raise ChainBroken(f"{who}: its hash does not match its content; edited after it was written", r.seq)
        if r.prev_hash != prev:
            what = f"seq {last[chain].seq}" if chain in last else "nothing (it starts its chain)"
            raise ChainBroken(
                f"{who}: its prev_hash is not the hash of {what}; one of the two was edited or replaced", r.seq
            )
        walked[chain], last[chain], newest = (place, r.hash), r, (r.seq, r.hash)
    return newest


def _gap(chain: int, before: int, place: int, seq: int) -> str:
    """The missing places of a chain, named by seq while the chain's places are the seqs."""
    first, end = before + 1, place - 1
    if chain == 0 and place == seq:
        return f"record seq {first}" if first == end else f"record seq {first} to {end}"
    return f"record {first} of chain {chain}" if first == end else f"records {first} to {end} of chain {chain}"


def check_heads(stored: Sequence[tuple[int, int, str]], walked: Heads) -> None:
    """ChainBroken unless the `chain_heads` table names the last record of every chain walked, and no other."""
    have = {c: (n, h) for c, n, h in stored}
    for chain in sorted(set(have) | set(walked)):
        got, want = have.get(chain), walked.get(chain)
        if got != want:
            said = f"record {got[0]}" if got else "nothing"
            ends = f"record {want[0]}" if want else "no record"
            raise ChainBroken(
                f"the chain heads table says chain {chain} ends at {said}, but its records end at {ends}: "
                "records deleted from the chain's end, or the table edited by hand"
            )


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


def check_signatures(checkpoints: Sequence[Checkpoint], keyring: Keyring) -> None:
    """ChainBroken at the first checkpoint the hub's keys did not sign (forged, or from another key)."""
    for c in checkpoints:
        problem = c.problem(keyring)
        if problem is not None:
            raise ChainBroken(problem, c.seq)


def check_checkpoints(
    checkpoints: Sequence[Checkpoint], hashes: dict[int, str], head_seq: int, walked: Heads | None = None
) -> None:
    """ChainBroken unless each checkpoint's records (newest, and each chain's head) still have the hashes signed.

    `hashes` holds the hash of each record a checkpoint names, by seq, and by `head_key(chain, place)`
    for the chains' heads; `walked` has each chain's last record as the walk found it.
    """
    vouched = 0  # the highest seq a checkpoint still vouches for, to say where a rewrite began
    for c in sorted(checkpoints, key=lambda c: c.seq):
        if c.seq > head_seq:
            raise ChainBroken(
                f"checkpoint {c.source} signed record seq {c.seq} at {c.at}, but the ledger ends at seq {head_seq}: "
                "records were deleted from its end",
                head_seq + 1,
            )
        if hashes.get(c.seq) != c.hash:
            raise ChainBroken(
                f"record seq {c.seq} no longer has the hash the hub signed at {c.at} (checkpoint {c.source}): the "
                f"chain was rewritten after seq {vouched} and re-hashed",
                c.seq,
            )
        for chain, place, digest in c.heads:
            ends = (walked or {}).get(chain, (0, GENESIS))[0]
            if place > ends:
                raise ChainBroken(
                    f"checkpoint {c.source} signed record {place} of chain {chain} at {c.at}, but that chain ends at "
                    f"record {ends}: records were deleted from its end"
                )
            if hashes.get(head_key(chain, place)) != digest:
                raise ChainBroken(
                    f"record {place} of chain {chain} no longer has the hash the hub signed at {c.at} (checkpoint "
                    f"{c.source}): that chain was rewritten and re-hashed"
                )
        vouched = c.seq


def head_key(chain: int, place: int) -> int:
    """A key for `hashes` that names a chain's record by its place, kept apart from seqs (positive) by its sign."""
    return -1 - (chain << 40 | place)  # places stay far below 2**40 records


class ItemFold:
    """The dedupe state recomputed from the records, one record at a time in chain order."""

    def __init__(self) -> None:
        self.state: dict[str, ItemState] = {}
        self.by: dict[str, int] = {}  # the seq of the record that set each key's state

    def __call__(self, r: Record) -> None:
        """Apply one record as the worker did (`hub.core.decide.next_state`)."""
        if r.source_id is None or r.content_hash is None or r.version is None or r.decision in KEEPS_STATE:
            return
        key = f"{r.kind}:{r.source_id}"
        prior = self.state.get(key)
        origin = r.direction.split("->")[0]
        delivered = r.decision in CROSSING or (prior is not None and prior[3] == 1)
        # The first submitter owns the item; a schema-1 record has none: its side and originator, as the
        # migration that added owners took them (`hub.ledger.schema`, version 2).
        owner = prior[4] if prior is not None and prior[4] else (r.submitter or f"{origin}:{r.originator}")
        self.state[key] = (r.version, r.content_hash, origin, int(delivered), owner)
        self.by[key] = r.seq


def check_items(stored: dict[str, ItemState], fold: ItemFold) -> None:
    """ChainBroken unless the stored dedupe state equals the one recomputed from the records."""
    have = {
        k: (str(v), str(h), str(o), int(d) if isinstance(d, int) else d, w) for k, (v, h, o, d, w) in stored.items()
    }
    for key in sorted(set(have) | set(fold.state)):
        got, want = have.get(key), fold.state.get(key)
        if got == want:
            continue
        if want is None:
            raise ChainBroken(
                f"the dedupe state holds {key[:200]}, which no record in the ledger set: its records were deleted, "
                "or the state was inserted by hand"
            )
        behind = f"record seq {fold.by[key]}"
        if got is None:
            raise ChainBroken(f"the dedupe state lacks {key}, set by {behind}: deleted by hand", fold.by[key])
        names = ("version", "content_hash", "origin", "delivered", "owner")
        diff = next(n for n, a, b in zip(names, got, want, strict=True) if a != b)
        raise ChainBroken(
            f"the dedupe state of {key} says {diff} {str(got[names.index(diff)])[:80]!r} but {behind} gives "
            f"{str(want[names.index(diff)])!r}: the items table was edited",
            fold.by[key],
        )


def _tap(records: Iterable[Record], wanted: set[int], hashes: dict[int, str], fold: ItemFold) -> Iterable[Record]:
    """The records, each seen by the dedupe fold and its hash kept if a checkpoint names it, once checked."""
    for r in records:
        yield r
        if r.seq in wanted:
            hashes[r.seq] = r.hash
        at = head_key(*r.place)
        if at in wanted:
            hashes[at] = r.hash
        fold(r)


def verify(
    ledger: Ledger,
    anchor: tuple[int, str] | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    keyring: Keyring | None = None,
) -> Verified:
    """Check the whole ledger against the anchor and the checkpoints; Verified, or ChainBroken naming the problem."""
    if checkpoints:
        check_signatures(checkpoints, keyring or Keyring({}))
    mistyped = ledger.mistyped()
    if mistyped is not None:
        seq, sid, column, kind = mistyped
        who = f"record seq {seq if isinstance(seq, int) else repr(seq)[:40]} (submission {str(sid)[:200]})"
        shown = "a BLOB" if kind == "blob" else f"a value of type {kind}"
        raise ChainBroken(f"{who}: field `{column}` holds {shown}; written by hand, not by the hub")
    hashes: dict[int, str] = {}
    fold = ItemFold()
    wanted = {c.seq for c in checkpoints} | {head_key(chain, n) for c in checkpoints for chain, n, _ in c.heads}
    walked: Heads = {}
    head = check_chain(_tap(ledger.records(), wanted, hashes, fold), walked)
    check_checkpoints(checkpoints, hashes, head[0], walked)
    if anchor is not None:
        check_anchor(ledger, anchor, head[0])
    check_items(ledger.dedupe_state(), fold)
    try:
        live = ledger.counts()
    except (ValueError, TypeError) as exc:
        raise ChainBroken(f"the counts table holds a malformed value ({exc}): written by hand") from None
    recount = ledger.recount()
    check_counts(live, recount, head[0])
    check_heads(ledger.heads(), walked)
    return Verified(ledger.size(), head, len(recount), len(checkpoints), len(fold.state), len(walked))
