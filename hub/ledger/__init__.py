"""The durable, append-only, hash-chained decision ledger (SQLite by default, PostgreSQL in production)."""

from hub.ledger.records import GENESIS, CountRow, Record
from hub.ledger.store import Ledger

__all__ = ["GENESIS", "CountRow", "Ledger", "Record"]
