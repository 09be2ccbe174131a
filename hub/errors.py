"""The hub's one exception root.

    HubError
    ├── ConfigError          settings or config file unusable
    ├── BrokerError          the embedded broker cannot start, or Kafka is unreachable
    │   └── Oversized        the broker refused some messages as too large (the others were acknowledged)
    ├── LedgerError          the ledger database failed or does not verify
    │   └── ChainBroken      a record's hash does not follow from the one before
    ├── InputError           a submission or file is unusable (carries item, field, problem)
    └── ConnectorError       a connector's peer (MISP, feed directory) failed
        ├── PeerUnavailable  unreachable, timed out, HTTP 5xx or 429: worth retrying (`retry_after`)
        └── Refused          the peer refused one item for good, or served one that cannot cross

Foreign errors (aiokafka, sqlite3, psycopg, PyMISP, requests) are translated where they enter with
`raise X(...) from exc`. Rejections of single submissions are not exceptions: they are decisions.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every error the hub raises on purpose."""


class ConfigError(HubError):
    """The settings or the config file cannot be used."""


class BrokerError(HubError):
    """The embedded broker cannot start, or the configured Kafka cannot be reached."""


class LedgerError(HubError):
    """The ledger database failed."""


class ChainBroken(LedgerError):
    """The ledger's hash chain or its counts do not verify; names the first bad record."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class InputError(HubError):
    """A file or item given to the hub is unusable: `field` and `problem` as a rejection has them, and `item`.

    The message reads as a rejection's reason, after the item when one is named:
    `InputError("'2026-13-01' is not a date (YYYY-MM-DD)", field="from", item="hub report")` reads
    "hub report: field `from`: '2026-13-01' is not a date (YYYY-MM-DD)"; without a field, the problem alone.
    """

    def __init__(self, problem: str, *, field: str = "", item: str = "") -> None:
        self.problem = problem
        self.field = field
        self.item = item
        reason = f"field `{field}`: {problem}" if field else problem
        super().__init__(f"{item}: {reason}" if item else reason)


class Oversized(BrokerError):
    """The broker refused the messages at `indexes` as too large; every other message was acknowledged."""

    def __init__(self, message: str, indexes: list[int]) -> None:
        super().__init__(message)
        self.indexes = indexes


class ConnectorError(HubError):
    """A connector's peer (a MISP server, a feed directory) failed; `retry_after` is the wait it asked for."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PeerUnavailable(ConnectorError):
    """The peer cannot be reached or cannot answer now (time-out, HTTP 5xx, 429): retried with backoff."""


class Refused(ConnectorError):
    """One item cannot cross: the peer refused it for good, or it cannot be submitted; recorded, then skipped."""
