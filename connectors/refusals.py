"""Where a connector records what it could not bring across: the ledger's refusals table.

The database work runs in one thread of its own, off the event loop; a refusal that cannot be
recorded raises LedgerError, and the connector then does not move past the item.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from hub.ledger import Ledger
from hub.ledger.refusals import Refusal, record

log = logging.getLogger("hub.connectors")


class RefusalLog:
    """The refusals of one connector, written to the ledger named by the settings."""

    def __init__(self, ledger_url: str, connector: str, side: str) -> None:
        self.ledger_url = ledger_url
        self.connector = connector
        self.side = side
        self._ledger: Ledger | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="refusals")  # the ledger connection's one thread

    def _write(self, refusal: Refusal) -> None:
        if self._ledger is None:
            self._ledger = Ledger(self.ledger_url)
        record(self._ledger, refusal)

    async def record(
        self,
        role: str,
        reason: str,
        item: str | None = None,
        version: str | None = None,
        submission_id: str | None = None,
        location: str | None = None,
    ) -> Refusal:
        """Record one refusal (and log it once); returns it as recorded."""
        refusal = Refusal.of(
            connector=self.connector,
            side=self.side,
            role=role,
            item=item,
            version=version,
            submission_id=submission_id,
            location=location,
            reason=reason,
        )
        await asyncio.get_running_loop().run_in_executor(self._thread, self._write, refusal)
        what = "refused by the destination" if role == "sink" else "not submitted"
        log.warning("connector %s: %s %s: %s", self.connector, item or location or "an item", what, refusal.reason)
        return refusal

    def close(self) -> None:
        """Close the ledger connection and the thread."""
        if self._ledger is not None:
            self._thread.submit(self._ledger.close).result()
            self._ledger = None
        self._thread.shutdown(wait=True)
