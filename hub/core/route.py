"""Routing: which topics a decided submission goes to, and the bytes sent there.

Every decision goes to `hub.decisions` as its ledger record, less what only the ledger may hold (the
message digest; the content hash and tags of anything that did not cross; a reason that may quote
content). An item that crosses goes to the counterpart's inbox, signed by the hub when a hub
signer is given (`hub.core.delivery`). A rejected item goes to `hub.rejected` with its reason, its
size and, only when it is openly marked (`Outcome.disclosable`), its SHA-256 and a bounded excerpt.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.core.decision import Decision, Outcome

SUBMITTED = "hub.submitted"
REJECTED = "hub.rejected"
DECISIONS = "hub.decisions"  # the ledger's topic: every decision record, for downstream consumers
SID_HEADER = "hub-sid"  # the submission id a publisher gives each message
DECISION_HEADER = "hub-decision"
EXCERPT_BYTES = 64 * 1024  # the most of a rejected item `hub.rejected` carries: enough to see what is wrong
LEDGER_ONLY = ("message_digest",)  # record fields that never leave the ledger
CROSSED_ONLY = ("content_hash", "tags")  # record fields shown only for what crossed: a hash confirms a guess

SignDelivery = Callable[[str, str, bytes], list[tuple[str, bytes]]]
"""(side, submission id, value) -> the hub's signature headers for one inbox message."""


def inbox(side: str) -> str:
    """The inbox topic of one side: `eu.inbox` or `nato.inbox`."""
    return f"{side.lower()}.inbox"


@dataclass(frozen=True)
class Output:
    """One message to produce."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


def excerpt(raw: bytes) -> dict[str, object]:
    """At most EXCERPT_BYTES of `raw` as the JSON body holds it: text when it stays small once escaped, else base64."""
    head = raw[:EXCERPT_BYTES]
    text: str | None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = head[: exc.start].decode("utf-8") if exc.start >= len(head) - 3 else None  # a character cut in two
    if text is not None and len(json.dumps(text, ensure_ascii=False).encode()) <= EXCERPT_BYTES + 1024:
        return {"excerpt": text, "excerpt_bytes": len(text.encode()), "truncated": len(text.encode()) < len(raw)}
    part = raw[: EXCERPT_BYTES * 3 // 4]  # base64 grows it by 4/3: the encoded excerpt stays within EXCERPT_BYTES
    return {
        "excerpt_base64": base64.b64encode(part).decode("ascii"),
        "excerpt_bytes": len(part),
        "truncated": len(part) < len(raw),
    }


def rejected_body(outcome: Outcome, seq: int, raw: bytes) -> dict[str, object]:
    """What `hub.rejected` says about one refused item: never a copy, never the content of a closed item."""
    body: dict[str, object] = {
        "submission_id": outcome.submission_id,
        "rule": outcome.rule,
        "reason": outcome.reason if outcome.disclosable else (outcome.public_reason or outcome.reason),
        "seq": seq,
        "size": len(raw),
    }
    if outcome.disclosable:
        body["sha256"] = hashlib.sha256(raw).hexdigest()
        body.update(excerpt(raw))
    return body


def public_record(record: Mapping[str, object], outcome: Outcome) -> dict[str, object]:
    """The ledger record as `hub.decisions` carries it: nothing that could confirm or quote a closed item."""
    shown = {k: v for k, v in record.items() if k not in LEDGER_ONLY}
    if not outcome.crosses:
        shown.update({"content_hash": None, "tags": []})
        if not outcome.disclosable and outcome.public_reason is not None:
            shown["reason"] = outcome.public_reason
    return shown


def route(
    outcome: Outcome, seq: int, record: Mapping[str, object], raw: bytes, sign: SignDelivery | None = None
) -> list[Output]:
    """The messages one decision produces: inbox or rejected topic, and its record (`seq`) for `hub.decisions`."""
    sid = outcome.submission_id
    headers = ((SID_HEADER, sid.encode()), (DECISION_HEADER, outcome.decision.value.encode()))
    out = [Output(DECISIONS, sid.encode(), json.dumps(public_record(record, outcome)).encode(), headers)]
    env = outcome.envelope
    if outcome.crosses and env is not None:
        delivered = env.model_copy(update={"tags": outcome.tags, "content_hash": outcome.content_hash})
        side = env.origin.counterpart.value
        value = delivered.model_dump_json().encode()
        signed = tuple(sign(side, sid, value)) if sign is not None else ()
        out.append(Output(inbox(side), env.key.encode(), value, headers + signed))
    elif outcome.decision is Decision.REJECTED:
        body = json.dumps(rejected_body(outcome, seq, raw), ensure_ascii=False).encode()
        out.append(Output(REJECTED, None, body, headers))
    return out
