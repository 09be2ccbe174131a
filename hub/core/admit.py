"""The way in: one message of `hub.submitted`, its submission id, its digest, and trust before any parse.

Order matters. The submission id is checked first (a safe alphabet and length, no parse), then the
signature (one Ed25519 over the bytes as sent, no parse), and only an item whose signature checks
out is parsed and validated. An unsigned, unknown-key or forged item therefore costs the hub no
more than its signature check, whatever it holds. The message digest (value and signature
headers) is what seals a decision to the bytes it was made for (`hub.core.replay`).

    checked = admit_all([Submitted("sid-1", raw, headers)], trust)  # [Valid | Invalid]
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from hub.core.keys import RegisteredKey
from hub.core.route import SID_HEADER
from hub.core.signing import KEY_HEADER, SIG_HEADER, Trust
from hub.core.validate import DEFAULT_LIMITS, Invalid, ItemLimits, Valid, validate

SID_MAX = 128  # a UUID is 36 characters; 128 leaves room for prefixed ids and bounds what is stored and echoed
# What a publisher may choose as `hub-sid`: letters, digits, `.`, `_` and `-`, starting with a letter or
# digit. The hub's own derived ids (`raw:…`, `reuse:…`) contain `:`, so no publisher can claim one.
SID_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{SID_MAX - 1}}}")
DIGEST_CONTEXT = b"hub-message/1\n"  # domain separation: a message digest is never any other hash
SIGNATURE_HEADERS = (KEY_HEADER, SIG_HEADER)

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Submitted:
    """One message read from `hub.submitted`."""

    submission_id: str
    value: bytes
    headers: Headers = ()  # the signature travels here (`hub-key`, `hub-sig`)
    bad_sid: str | None = field(default=None, compare=False)  # an unsafe `hub-sid` as given (shortened), refused
    refused: tuple[str, str] | None = field(default=None, compare=False)  # (rule, reason): refused unread
    partition: int = field(default=0, compare=False)  # of `hub.submitted`: the ledger chain its record joins

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
        given = next((v for k, v in clean if k == SID_HEADER and v), None)
        if given is not None and is_safe_sid(given):
            return cls(given.decode("ascii"), raw, clean, refused=refused, partition=partition)
        bad = None if given is None else repr(given[:40])
        return cls(derived_id(partition, offset, raw), raw, clean, bad, refused, partition)

    @cached_property
    def digest(self) -> str:
        """This message's seal (`message_digest`), computed once: a large item's value is hashed once."""
        return message_digest(self)


def is_safe_sid(raw: bytes) -> bool:
    """True when `raw` is a submission id a publisher may choose (see SID_PATTERN)."""
    return raw.isascii() and SID_PATTERN.fullmatch(raw.decode("ascii")) is not None


def derived_id(partition: int, offset: int, value: bytes) -> str:
    """The submission id of a message without a usable `hub-sid`: unique to its place in the topic."""
    return f"raw:{hashlib.sha256(value).hexdigest()[:32]}:{partition}:{offset}"


def message_digest(item: Submitted) -> str:
    """SHA-256 over the message as the hub judged it: its value and its signature headers, in order."""
    h = hashlib.sha256(DIGEST_CONTEXT)
    h.update(len(item.value).to_bytes(8, "big"))
    h.update(item.value)
    for name, value in item.headers:
        if name in SIGNATURE_HEADERS:
            h.update(name.encode() + b"\0" + len(value).to_bytes(8, "big") + value)
    return h.hexdigest()


def admit(item: Submitted, trust: Trust | None, limits: ItemLimits = DEFAULT_LIMITS) -> Valid | Invalid:
    """The way in for one submission (see `admit_all`)."""
    return admit_all([item], trust, limits)[0]


def admit_all(
    batch: Sequence[Submitted], trust: Trust | None, limits: ItemLimits = DEFAULT_LIMITS
) -> list[Valid | Invalid]:
    """The way in: the submission id, the signature (when `trust` is given), then the envelope and its claims.

    A message the consumer refused unread (too large once inflated, unreadable) is rejected for
    that alone. Signatures are checked on the verifying threads, a chunk ahead of this thread, which
    validates (within `limits`) only the items whose signature checked out.
    """
    if trust is None:
        return [_unread(item) or validate(item.value, limits) for item in batch]
    verdicts = trust.verdicts([(item.value, item.headers) for item in batch])
    out: list[Valid | Invalid] = []
    for item, key in zip(batch, verdicts, strict=True):
        refused = _unread(item)
        if refused is not None:
            out.append(refused)
        elif isinstance(key, Invalid):
            out.append(key)  # untrusted: refused for its signature, never parsed
        else:
            out.append(_claims(key, item, trust, limits))
    return out


def _unread(item: Submitted) -> Invalid | None:
    """The refusal of a message that is not read at all: refused by the consumer, or an unsafe `hub-sid`."""
    if item.refused is not None:
        return Invalid("", item.refused[1], rule=item.refused[0])
    if item.bad_sid is None:
        return None
    problem = f"header `{SID_HEADER}`: {item.bad_sid} is not a submission id; use 1 to {SID_MAX} of A-Z a-z 0-9 . _ -"
    return Invalid("", problem, rule="invalid-sid")


def _claims(key: RegisteredKey | None, item: Submitted, trust: Trust, limits: ItemLimits) -> Valid | Invalid:
    checked = validate(item.value, limits)  # only now: its signature checked out (or unsigned items are allowed)
    if key is None or isinstance(checked, Invalid):
        return checked
    return trust.check_claims(checked, key)
