"""Routing: which topics a decided submission goes to, and the bytes sent there."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.core.decision import Decision, Outcome

SUBMITTED = "hub.submitted"
REJECTED = "hub.rejected"
DECISIONS = "hub.decisions"  # the ledger's topic: every decision record, for downstream consumers
CHECKPOINTS = "hub.checkpoints"  # the ledger's head, signed by the hub every N records or T seconds
SID_HEADER = "hub-sid"  # the submission id a publisher gives each message
DECISION_HEADER = "hub-decision"


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


def _raw_item(raw: bytes) -> dict[str, str]:
    try:
        return {"item": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"item_base64": base64.b64encode(raw).decode("ascii")}


def headers_of(outcome: Outcome) -> tuple[tuple[str, bytes], ...]:
    """The headers of every output of one decision: its submission id and its decision."""
    return ((SID_HEADER, outcome.submission_id.encode()), (DECISION_HEADER, outcome.decision.value.encode()))


def delivery(outcome: Outcome) -> Output | None:
    """The inbox message of a decision that crosses (the same bytes every time it is asked), else None."""
    env = outcome.envelope
    if not outcome.crosses or env is None:
        return None
    value = outcome.delivered_json
    if value is None:
        delivered = env.model_copy(update={"tags": outcome.tags, "content_hash": outcome.content_hash})
        value = delivered.model_dump_json().encode()
    return Output(inbox(env.origin.counterpart.value), env.key.encode(), value, headers_of(outcome))


def route(outcome: Outcome, seq: int, record: Mapping[str, object], raw: bytes) -> list[Output]:
    """The messages one decision produces: inbox or rejected topic, and its ledger record (`seq`, as JSON)."""
    sid = outcome.submission_id
    headers = headers_of(outcome)
    out = [Output(DECISIONS, sid.encode(), json.dumps(record).encode(), headers)]
    delivered = delivery(outcome)
    if delivered is not None:
        out.append(delivered)
    elif outcome.decision is Decision.REJECTED:
        summary = {"submission_id": sid, "reason": outcome.reason, "seq": seq}
        body = {**summary, **_raw_item(raw)}
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
