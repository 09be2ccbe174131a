"""What the hostile-load tests check after a run: the ledger and the inboxes agree, message for record."""

from __future__ import annotations

from hub.core.route import SID_HEADER
from hub.ledger import Ledger
from tests.conftest import read_topic

CROSSING = ("delivered", "updated")


async def inbox_sids(bootstrap: str, expect: int) -> list[str]:
    """The submission ids of every message in both inboxes (each read until `expect` arrived, or for 5 s)."""
    found: list[str] = []
    for topic in ("eu.inbox", "nato.inbox"):
        for rec in await read_topic(bootstrap, topic, expect + 1, timeout=5):
            found.append(dict(rec.headers)[SID_HEADER].decode())
    return found


async def assert_ledger_and_inboxes_agree(bootstrap: str, ledger: Ledger) -> set[str]:
    """Every delivered or updated record has its inbox message, and every inbox message its record."""
    crossing = {r.submission_id for r in ledger.records() if r.decision in CROSSING}
    sent = await inbox_sids(bootstrap, len(crossing))
    assert set(sent) == crossing
    assert len(sent) >= len(crossing)  # at least once; a replay may deliver twice
    return crossing
