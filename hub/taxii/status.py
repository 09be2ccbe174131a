"""A TAXII status resource from the ledger: each submission pending until the hub decided it, then its decision.

Delivered, updated and duplicate are successes (the item is, or already was, with the other side);
withheld and rejected are failures, and their message is the hub's rule and reason: the answer to
"why was my assessment withheld?". The status is complete once nothing is pending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.ledger import Record
from hub.ledger.statuses import StatusRecord

SUCCESSES = ("delivered", "updated", "duplicate")
Json = dict[str, Any]


def message(record: Record) -> str:
    """The hub's decision in words: `withheld (tlp-red): …`."""
    rule = f" ({record.rule})" if record.rule else ""
    return f"{record.decision}{rule}: {record.reason}" if record.reason else f"{record.decision}{rule}"


def resource(status: StatusRecord, decided: Mapping[str, Record]) -> Json:
    """The status resource of `status`, given the ledger's records of its submissions."""
    successes: list[Json] = []
    failures: list[Json] = list(status.failures)
    pendings: list[Json] = []
    for sub in status.submissions:
        detail: Json = {"id": sub.stix_id, "version": sub.version}
        record = decided.get(sub.submission_id)
        if record is None:
            pendings.append(detail)
        elif record.decision in SUCCESSES:
            successes.append({**detail, "message": message(record)})
        else:
            failures.append({**detail, "message": message(record)})
    body: Json = {
        "id": status.id,
        "status": "pending" if pendings else "complete",
        "request_timestamp": status.created,
        "total_count": len(successes) + len(failures) + len(pendings),
        "success_count": len(successes),
        "failure_count": len(failures),
        "pending_count": len(pendings),
    }
    for name, details in (("successes", successes), ("failures", failures), ("pendings", pendings)):
        if details:
            body[name] = details
    return body
