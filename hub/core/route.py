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
from dataclasses import dataclass, field

from hub.core.decision import Decision, Outcome

SUBMITTED = "hub.submitted"
REJECTED = "hub.rejected"
DECISIONS = "hub.decisions"  # the ledger's topic: every decision record, for downstream consumers
CHECKPOINTS = "hub.checkpoints"  # the ledger's head, signed by the hub every N records or T seconds
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
    # What must survive when the value is too large to send (submission id, reason, seq): see `fallback`.
    summary: Mapping[str, object] | None = field(default=None, compare=False)

    @property
    def submission_id(self) -> str:
        """The submission this output is about (its `hub-sid` header)."""
        return next((v.decode("utf-8", "replace") for k, v in self.headers if k == SID_HEADER), "")


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


def headers_of(outcome: Outcome) -> tuple[tuple[str, bytes], ...]:
    """The headers of every output of one decision: its submission id and its decision."""
    return ((SID_HEADER, outcome.submission_id.encode()), (DECISION_HEADER, outcome.decision.value.encode()))


def delivery(outcome: Outcome, sign: SignDelivery | None = None) -> Output | None:
    """The inbox message of a decision that crosses (the same bytes every time it is asked), signed; else None."""
    env = outcome.envelope
    if not outcome.crosses or env is None:
        return None
    value = outcome.delivered_json
    if value is None:
        delivered = env.model_copy(update={"tags": outcome.tags, "content_hash": outcome.content_hash})
        value = delivered.model_dump_json().encode()
    side = env.origin.counterpart.value
    signed = tuple(sign(side, outcome.submission_id, value)) if sign is not None else ()
    return Output(inbox(side), env.key.encode(), value, headers_of(outcome) + signed)


def route(
    outcome: Outcome, seq: int, record: Mapping[str, object], raw: bytes, sign: SignDelivery | None = None
) -> list[Output]:
    """The messages one decision produces: inbox or rejected topic, and its record (`seq`) for `hub.decisions`."""
    sid = outcome.submission_id
    headers = headers_of(outcome)
    out = [Output(DECISIONS, sid.encode(), json.dumps(public_record(record, outcome)).encode(), headers)]
    delivered = delivery(outcome, sign)
    if delivered is not None:
        out.append(delivered)
    elif outcome.decision is Decision.REJECTED:
        body = rejected_body(outcome, seq, raw)
        summary = {k: body[k] for k in ("submission_id", "rule", "reason", "seq", "size")}  # what a fallback keeps
        out.append(Output(REJECTED, None, json.dumps(body, ensure_ascii=False).encode(), headers, summary))
    return out


FALLBACK_TEXT_CHARS = 2000  # a fallback's reason and submission id are cut here: it must stay small


def fallback(o: Output, problem: str) -> Output:
    """A bounded stand-in for an output too large to send: what must survive, and the size and hash of the rest."""
    summary = {k: (v[:FALLBACK_TEXT_CHARS] if isinstance(v, str) else v) for k, v in (o.summary or {}).items()}
    summary.setdefault("submission_id", o.submission_id[:FALLBACK_TEXT_CHARS])
    omitted = {"bytes": len(o.value), "sha256": hashlib.sha256(o.value).hexdigest(), "problem": problem}
    body = {**summary, "omitted": omitted}
    return Output(o.topic, o.key, json.dumps(body, ensure_ascii=False).encode(), o.headers, o.summary)
