"""The durable, append-only decision ledger, a hash chain per partition (SQLite, or PostgreSQL in production)."""

from hub.ledger.records import GENESIS, CountRow, Record
from hub.ledger.store import Ledger

__all__ = ["GENESIS", "CountRow", "Ledger", "Record"]
