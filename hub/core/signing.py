"""Signed submissions: Ed25519 over the exact bytes sent, carried in Kafka headers.

A publisher sends `hub-key` (its key id) and `hub-sig` (base64 signature) with each message, so the
envelope contract is unchanged. The signature covers the message value byte for byte: the
publisher signs what it sends, and checking it is one Ed25519 verification over those bytes, with
no parse. So the hub gives its verdict on a signature before any parsing or validation, and an
unsigned, unknown-key or forged item costs it no more than that check (`hub.core.admit`). Once
the envelope is valid, its `origin` and `originator` must be the key's side and organisation.

(Until December 2026 the signature covered the RFC 8785 canonical form of the JSON, which meant
parsing every item, trusted or not, before its signature could be checked.)
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.exceptions import BadSignatureError

from hub.core.keys import Keyring, RegisteredKey, key_id, org_key
from hub.core.validate import Hint, Invalid, Valid
from schemas.common import Side
from schemas.envelope import Envelope

KEY_HEADER = "hub-key"  # the signing key's id
SIG_HEADER = "hub-sig"  # base64 Ed25519 signature over the message value, byte for byte
SIGNATURE_BYTES = 64  # an Ed25519 signature's length (RFC 8032)
VERIFY_CHUNK = 64  # signatures per task of the verifying threads: ~4 ms of work, little scheduling
# libsodium releases the GIL while it verifies, so these threads use the cores the interpreter cannot.
_VERIFIERS = ThreadPoolExecutor(max(2, os.cpu_count() or 1), thread_name_prefix="verify")

Headers = tuple[tuple[str, bytes], ...]


class SignsSubmissions(Protocol):
    """Anything that gives the signature headers for one submission."""

    def headers(self, raw: bytes) -> list[tuple[str, bytes]]:
        """The headers to send with `raw`."""
        ...


@dataclass(frozen=True)
class Signer:
    """One private key and its id; signs submissions."""

    key_id: str
    private_key: Ed25519PrivateKey

    @classmethod
    def of(cls, private_key: Ed25519PrivateKey) -> Signer:
        """A signer for `private_key`, its id derived from the public key."""
        return cls(key_id(private_key.public_key()), private_key)

    def sign(self, raw: bytes) -> bytes:
        """The Ed25519 signature of `raw`, exactly as it is sent."""
        return self.private_key.sign(raw)

    def headers(self, raw: bytes) -> list[tuple[str, bytes]]:
        """`hub-key` and `hub-sig` for `raw`."""
        return [(KEY_HEADER, self.key_id.encode()), (SIG_HEADER, base64.b64encode(self.sign(raw)))]


def claimed_by(raw: bytes) -> tuple[str, str] | None:
    """The (origin, originator) a submission claims, if it can be read."""
    try:
        doc = json.loads(raw)
        origin, originator = doc["origin"], doc["originator"]
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    return (origin, org_key(originator)) if isinstance(origin, str) and isinstance(originator, str) else None


@dataclass(frozen=True)
class SignerSet:
    """Several organisations' signers (a test bench or the demo): each item signed by its originator's key."""

    signers: Mapping[tuple[str, str], Signer]  # (side, originator casefolded) -> signer
    default: Signer  # for items that name no known originator: they are signed as sent, and rejected on content

    @classmethod
    def of(cls, signers: Mapping[tuple[Side | str, str], Signer]) -> SignerSet:
        """A set from (side, organisation) -> signer; the first is the default."""
        table = {(str(side), org_key(org)): s for (side, org), s in signers.items()}
        return cls(table, next(iter(table.values())))

    def headers(self, raw: bytes) -> list[tuple[str, bytes]]:
        """Headers from the signer of the item's claimed originator, else the default signer."""
        claim = claimed_by(raw)
        return (self.signers.get(claim, self.default) if claim else self.default).headers(raw)


@dataclass(frozen=True)
class _Pending:
    """A signature whose headers and key check out, waiting for the Ed25519 arithmetic."""

    key: RegisteredKey
    signature: bytes
    message: bytes  # the submission's bytes, as sent


def _verify_chunk(pending: list[_Pending]) -> list[bool]:
    """Check each signature (libsodium, outside the GIL)."""
    ok: list[bool] = []
    for p in pending:
        try:
            p.key.verify_key.verify(p.message, p.signature)
            ok.append(True)
        except BadSignatureError:
            ok.append(False)
    return ok


def _single(headers: Iterable[tuple[str, bytes]], name: str) -> list[bytes]:
    return [bytes(v) for k, v in headers if k == name]


@dataclass(frozen=True)
class Trust:
    """The hub's side of signing: the keyring, and whether unsigned submissions are refused."""

    keyring: Keyring
    required: bool = True

    def verify(self, raw: bytes, headers: Headers) -> RegisteredKey | Invalid | None:
        """The key that signed `raw`, an Invalid naming the rule, or None (unsigned, not required)."""
        return next(self.verdicts([(raw, headers)]))

    def verdicts(self, items: Sequence[tuple[bytes, Headers]]) -> Iterator[RegisteredKey | Invalid | None]:
        """`verify`'s answer for each of `items`, in order, as soon as each is known.

        Headers and keys are checked at once; the Ed25519 arithmetic runs on the verifying threads,
        a chunk at a time, so the caller can validate the trusted items of one chunk while the next
        chunks are verified.
        """
        found = [self._pending(raw, headers) for raw, headers in items]
        todo = [i for i, f in enumerate(found) if isinstance(f, _Pending)]
        jobs: list[tuple[list[int], Future[list[bool]]]] = []
        for start in range(0, len(todo), VERIFY_CHUNK):
            chunk = todo[start : start + VERIFY_CHUNK]
            jobs.append((chunk, _VERIFIERS.submit(_verify_chunk, [found[i] for i in chunk])))  # type: ignore[misc]
        waiting = iter(jobs)
        for n in range(len(found)):
            while isinstance(found[n], _Pending):  # chunks are in item order: its chunk is the next one
                chunk, job = next(waiting)
                for i, ok in zip(chunk, job.result(), strict=True):
                    pending = found[i]
                    assert isinstance(pending, _Pending)  # noqa: S101 - chunks hold only these
                    found[i] = pending.key if ok else self._mismatch(pending)
            verdict = found[n]
            assert not isinstance(verdict, _Pending)  # noqa: S101 - collected above
            yield verdict

    def _pending(self, raw: bytes, headers: Headers) -> _Pending | RegisteredKey | Invalid | None:
        kids, sigs = _single(headers, KEY_HEADER), _single(headers, SIG_HEADER)
        if not kids and not sigs:
            if not self.required:
                return None
            return _refuse("unsigned", f"unsigned: no `{SIG_HEADER}` header; sign with a registered key")
        if len(kids) != 1 or len(sigs) != 1:
            return _refuse("forged", f"needs exactly one `{KEY_HEADER}` and one `{SIG_HEADER}` header")
        kid = kids[0].decode("utf-8", "replace")
        key = self.keyring.get(kid)
        if key is None:
            return _refuse("unknown-key", f"key {kid[:40]!r} is not registered in the hub's keyring")
        try:
            sig = base64.b64decode(sigs[0], validate=True)
        except (binascii.Error, ValueError):
            sig = b""
        if len(sig) != SIGNATURE_BYTES:
            return _refuse("forged", f"`{SIG_HEADER}` is not a base64 Ed25519 signature")
        return _Pending(key, sig, raw)

    @staticmethod
    def _mismatch(p: _Pending) -> Invalid:
        return _refuse("forged", f"signature does not match the content for key {p.key.key_id} ({p.key.org})")

    def check_claims(self, checked: Valid, key: RegisteredKey) -> Valid | Invalid:
        """`checked`, with its submitter, if its origin and originator are the key's side and organisation."""
        env = checked.envelope
        if env.origin is not key.side:
            return Invalid(
                "origin",
                f"claims {env.origin} but key {key.key_id} is registered for {key.side}",
                _hint(env),
                "wrong-side",
            )
        if org_key(env.originator) != org_key(key.org):
            problem = f"claims {env.originator!r} but key {key.key_id} is registered for {key.org!r}"
            return Invalid("originator", problem, _hint(env), "wrong-originator")
        return replace(checked, submitter=submitter(key))


def submitter(key: RegisteredKey) -> str:
    """The identity an item's verified key gives it, `SIDE:organisation`: what owns the items it submits first."""
    return f"{key.side}:{key.org}"


def _refuse(rule: str, problem: str) -> Invalid:
    """An untrusted item's refusal: nothing read from its content, not even its kind (it costs a parse)."""
    return Invalid("", problem, Hint(), rule)


def _hint(env: Envelope) -> Hint:
    return Hint(str(env.kind), str(env.area), str(env.origin))
