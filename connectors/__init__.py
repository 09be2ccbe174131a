"""Connectors: what brings items into the hub from one side and applies deliveries on the other.

A source yields the changes of its peer since its last saved progress, as hub submissions (and
the items it found but cannot submit, as `Unsent`); a sink applies one delivered envelope to its
peer, idempotently, and says what the peer did. Each connector runs supervised
(`connectors/supervise.py`): a failure is logged, counted in its `ConnectorHealth` and retried
with backoff, and stays inside it. HTTP to a peer is bounded in `connectors/http.py`; files that
readers must see whole are written through `connectors/atomic.py`. The MISP connectors (REST API
and feed directories) live in `connectors/misp/`, the files connectors in `connectors/files/`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from hub.config.keystore import publisher_signer
from hub.kafka.publisher import Publisher
from hub.settings import Settings
from schemas.common import Side


@dataclass(frozen=True)
class Change:
    """One new or changed item at a source, ready to submit."""

    key: str  # the item's identity at the source (a MISP event UUID)
    version: int  # its version there (a MISP event timestamp)
    item: bytes  # the submission envelope (JSON)


@dataclass(frozen=True)
class Unsent:
    """An item a source found but cannot submit (too large, not representable): recorded as refused, passed."""

    key: str
    version: int
    reason: str


class Applied(StrEnum):
    """What a sink did with one delivery."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the peer already holds this version or a newer one
    SKIPPED = "skipped"  # not for this sink (another kind)
    REFUSED = "refused"  # never applied: refused by the peer, or not a hub-signed delivery for this side; recorded


class Source(Protocol):
    """Where items come from: a peer read incrementally against saved progress."""

    side: Side

    def changes(self) -> AsyncIterator[Change | Unsent]:
        """The peer's new and changed items since the saved progress."""
        ...

    def done(self, items: Sequence[Change | Unsent]) -> None:
        """Save progress once the hub acknowledged `items` (or they were recorded as refused)."""
        ...

    def passed(self) -> None:
        """A whole pass ended: save how far the next one may start."""
        ...

    async def close(self) -> None:
        """Release the connections to the peer."""
        ...


class Sink(Protocol):
    """Where deliveries go: a peer that applies delivered envelopes idempotently."""

    side: Side

    async def apply(self, envelope: dict[str, Any]) -> Applied:
        """Apply one delivered envelope; Refused when the peer refuses it for good."""
        ...

    async def flush(self) -> None:
        """Make every applied delivery durable (called before offsets are committed)."""
        ...

    async def check(self) -> None:
        """Return when the peer works at all; ConnectorError otherwise (tells one bad item from a dead peer)."""
        ...

    async def close(self) -> None:
        """Release the connections to the peer."""
        ...


def make_publisher(settings: Settings, bootstrap: str) -> Publisher:
    """The one place connectors create their publisher, signing with `signing.key_file` when set."""
    return Publisher(settings.kafka, bootstrap, signer=publisher_signer(settings))
