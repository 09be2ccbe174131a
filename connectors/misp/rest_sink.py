"""REST sink: delivered events into a MISP instance; add by UUID, edit only when strictly newer."""

from __future__ import annotations

import asyncio
from typing import Any

from connectors import Applied
from connectors.misp.client import MispClient
from connectors.misp.envelope import event_of
from schemas.common import Side


class RestSink:
    """Applies one side's deliveries to that side's MISP."""

    def __init__(self, client: MispClient, side: Side) -> None:
        self.client = client
        self.side = side

    async def apply(self, envelope: dict[str, Any]) -> Applied:
        """Add or edit the delivered event; "not newer" is a no-op (PyMISP runs in a thread)."""
        event = event_of(envelope)
        if event is None:
            return Applied.SKIPPED
        return await asyncio.to_thread(self.client.put, event)

    async def flush(self) -> None:
        """Nothing to do: MISP saved each event when it answered."""
