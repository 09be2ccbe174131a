"""Signed checkpoints of the ledger's heads: (seq, hash, heads, time) signed with the hub's key, outside the database.

Whoever can write the database can rewrite the chain and recompute every hash after an edit; they
cannot sign with the hub's key, which lives in a file the database does not hold. A checkpoint is
the canonical JSON (RFC 8785) of `{"type": "hub-checkpoint", "seq", "hash", "at", "heads"}` signed
with Ed25519, where `seq` and `hash` are the newest record's and `heads` lists every chain's head
as `[chain, chain_seq, hash]` (one chain per partition since schema 5). A checkpoint signed before
chains existed has no `heads`, and its message leaves the key out, so its signature still holds.
The `type` keeps a checkpoint's signature from passing for a submission's. The worker
appends each to a file (one JSON line, `O_APPEND`, flushed to disk) and to the `hub.checkpoints`
topic; `hub audit verify` checks the chain against every one it is given.

    line = sign(signer, 120, "ab...", datetime.now(UTC)).line()
    checkpoint = parse(line, "checkpoints.jsonl:3")
    checkpoint.problem(keyring)  # None when the hub's key signed it
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from nacl.exceptions import BadSignatureError

from hub.core.canonical import canonical_bytes
from hub.core.keys import Keyring
from hub.core.signing import Signer
from hub.errors import InputError

TYPE = "hub-checkpoint"
FIELDS = ("seq", "hash", "at", "key", "sig")
Head = tuple[int, int, str]  # (chain, chain_seq, hash) of a chain's newest record


@dataclass(frozen=True)
class Checkpoint:
    """A signed head of the chain: record `seq` had `hash` at `at`, says the hub key `key`."""

    seq: int
    hash: str
    at: str
    key: str
    sig: str  # base64 Ed25519 signature over `message()`
    source: str = ""  # where it was read: file and line, or topic and offset
    heads: tuple[Head, ...] = ()  # every chain's head; empty in a checkpoint signed before chains existed

    def message(self) -> bytes:
        """What the signature covers."""
        doc: dict[str, object] = {"type": TYPE, "seq": self.seq, "hash": self.hash, "at": self.at}
        if self.heads:
            doc["heads"] = [list(h) for h in self.heads]
        return canonical_bytes(doc, plain=True)

    def line(self) -> str:
        """The checkpoint as one JSON line (file) or message (topic)."""
        doc: dict[str, object] = {name: getattr(self, name) for name in FIELDS}
        if self.heads:
            doc["heads"] = [list(h) for h in self.heads]
        return json.dumps(doc, separators=(",", ":"))

    def problem(self, keyring: Keyring) -> str | None:
        """Why the checkpoint cannot be trusted (unknown key, bad signature), or None when the hub signed it."""
        hub_key = keyring.hub.get(self.key)
        if hub_key is None:
            return f"checkpoint {self.source}: key {self.key[:40]!r} is not one of the hub's keys in the keyring"
        try:
            hub_key.verify_key.verify(self.message(), base64.b64decode(self.sig, validate=True))
        except (BadSignatureError, binascii.Error, ValueError):
            return f"checkpoint {self.source}: its signature does not verify with hub key {self.key}; it was forged"
        return None


def sign(signer: Signer, seq: int, digest: str, at: datetime, heads: Sequence[Head] = ()) -> Checkpoint:
    """A checkpoint of (seq, digest) and the chains' `heads` at `at`, signed by the hub's signer."""
    unsigned = Checkpoint(seq, digest, at.isoformat(timespec="seconds"), signer.key_id, "", heads=tuple(heads))
    signature = signer.private_key.sign(unsigned.message())
    return replace(unsigned, sig=base64.b64encode(signature).decode("ascii"))


def parse(text: str | bytes, source: str) -> Checkpoint:
    """A checkpoint from its JSON line; InputError naming `source` and the field at fault."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"checkpoint {source}: not a JSON object ({exc})") from None
    if not isinstance(doc, dict):
        raise InputError(f"checkpoint {source}: not a JSON object")
    for name, kind in (("seq", int), ("hash", str), ("at", str), ("key", str), ("sig", str)):
        if not isinstance(doc.get(name), kind) or isinstance(doc.get(name), bool):
            raise InputError(f"checkpoint {source}: field `{name}` is missing or not a {kind.__name__}")
    return Checkpoint(doc["seq"], doc["hash"], doc["at"], doc["key"], doc["sig"], source, _heads(doc, source))


def _heads(doc: dict[str, object], source: str) -> tuple[Head, ...]:
    """The `heads` of a checkpoint's JSON: a list of [chain, chain_seq, hash]; InputError if malformed."""
    given = doc.get("heads", [])
    heads: list[Head] = []
    for head in given if isinstance(given, list) else [given]:
        if not (
            isinstance(head, list)
            and len(head) == len(("chain", "chain_seq", "hash"))
            and all(isinstance(v, int) and not isinstance(v, bool) for v in head[:2])
            and isinstance(head[2], str)
        ):
            raise InputError(f"checkpoint {source}: field `heads` is not a list of [chain, chain_seq, hash]")
        heads.append((head[0], head[1], head[2]))
    return tuple(heads)


def append(path: Path, checkpoint: Checkpoint) -> None:
    """Append one checkpoint line to `path` and flush it to disk (several workers may append at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (checkpoint.line() + "\n").encode())  # one write: O_APPEND keeps concurrent lines whole
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path) -> list[Checkpoint]:
    """Every checkpoint in a file, in order; InputError naming the line of a malformed one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"checkpoint file {path} cannot be read: {exc}") from exc
    return [parse(text, f"{path}:{n}") for n, text in enumerate(lines, start=1) if text.strip()]
