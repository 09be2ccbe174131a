"""Routing: which topics a decided submission goes to, and the bytes sent there."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass

from hub.core.decision import Decision, Outcome

SUBMITTED = "hub.submitted"
REJECTED = "hub.rejected"
DECISIONS = "hub.decisions"  # the ledger's topic: every decision record, for downstream consumers
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


def _raw_item(raw: bytes) -> dict[str, str]:
    try:
        return {"item": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"item_base64": base64.b64encode(raw).decode("ascii")}


def route(outcome: Outcome, seq: int, record: Mapping[str, object], raw: bytes) -> list[Output]:
    """The messages one decision produces: inbox or rejected topic, and its ledger record (`seq`, as JSON)."""
    sid = outcome.submission_id
    headers = ((SID_HEADER, sid.encode()), (DECISION_HEADER, outcome.decision.value.encode()))
    out = [Output(DECISIONS, sid.encode(), json.dumps(record).encode(), headers)]
    env = outcome.envelope
    if outcome.crosses and env is not None:
        delivered = env.model_copy(update={"tags": outcome.tags, "content_hash": outcome.content_hash})
        topic = inbox(env.origin.counterpart.value)
        out.append(Output(topic, env.key.encode(), delivered.model_dump_json().encode(), headers))
    elif outcome.decision is Decision.REJECTED:
        body = {"submission_id": sid, "reason": outcome.reason, "seq": seq, **_raw_item(raw)}
        out.append(Output(REJECTED, None, json.dumps(body, ensure_ascii=False).encode(), headers))
    return out
