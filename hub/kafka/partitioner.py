"""The partition a submission's key is sent to, as the producers' default partitioner picks it.

The worker locks the ledger per partition (`hub.ledger.store`); an item's dedupe state is guarded
by the lock of the partition its key hashes to. A message that arrives on another partition (a
producer that did not key it by item, or keyed it otherwise) makes the worker lock that home
partition too, so the lock still covers every writer of the item's state.
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2

POSITIVE = 0x7FFFFFFF  # the Java client's (and aiokafka's) mask: the hash as a non-negative int


def home_partition(key: str, partitions: int) -> int:
    """The partition of `partitions` that aiokafka's and the Java client's default partitioner give `key`."""
    return int(murmur2(key.encode()) & POSITIVE) % partitions
