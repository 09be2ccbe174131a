"""REST sink: delivered events into a MISP instance; add by UUID, edit only when strictly newer.

A delivery counts as applied only when MISP shows the event (`MispClient.put`); one MISP refuses
raises Refused, which the delivery loop records before it goes on with the next.
"""

from __future__ import annotations

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
        """Add or edit the delivered event; "not newer" is a no-op once MISP shows it holds that version."""
        event = event_of(envelope)
        if event is None:
            return Applied.SKIPPED
        return await self.client.put(event)

    async def flush(self) -> None:
        """Nothing to do: MISP saved each event when it answered."""

    async def check(self) -> None:
        """Return when the MISP answers and accepts the key."""
        await self.client.check()

    async def close(self) -> None:
        """Close the connections."""
        await self.client.close()
