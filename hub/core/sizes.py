"""How large an output may be, decided before it is recorded or sent.

A Kafka message has two ceilings: the producer refuses a record whose uncompressed size passes its
`max_request_size` (aiokafka raises at `send`), and the broker refuses a batch whose compressed
size passes the topic's `max.message.bytes`. `OutputLimits.problem` checks both for one output:
the raw size first (cheap), and the compressed size only when the raw one passes the topic's limit
(compressing costs time, and most outputs are far below it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hub.core.route import Output

# Bytes a one-record batch adds to key, value and headers: the v2 batch header (61) and a record's
# varints (at most ~25), rounded up so that the estimate is never below aiokafka's own.
BATCH_OVERHEAD = 128
HEADER_OVERHEAD = 10  # a header's two length varints


def raw_size(o: Output) -> int:
    """The output's size as the producer counts it, uncompressed, with a batch's overhead."""
    headers = sum(len(name) + len(value) + HEADER_OVERHEAD for name, value in o.headers)
    return len(o.value) + len(o.key or b"") + headers + BATCH_OVERHEAD


@dataclass(frozen=True)
class OutputLimits:
    """The producer's ceiling (uncompressed) and each topic's (compressed), with the codec's measure."""

    request_bytes: int
    topic_bytes: Mapping[str, int] = field(default_factory=dict)  # what the broker said; absent: no ceiling
    compressed: Callable[[bytes], int] = len  # a value's size after the producer's codec

    def limit(self, topic: str) -> int:
        """The smaller ceiling for `topic`, for messages."""
        return min(self.request_bytes, self.topic_bytes.get(topic, self.request_bytes))

    def problem(self, o: Output) -> str | None:
        """Why `o` cannot be sent (a sentence naming sizes and the ceiling), or None when it fits."""
        raw = raw_size(o)
        if raw > self.request_bytes:
            return f"{raw:,} bytes, over the producer's limit of {self.request_bytes:,} bytes"
        ceiling = self.topic_bytes.get(o.topic)
        if ceiling is None or raw <= ceiling:
            return None
        packed = self.compressed(o.value) + raw - len(o.value)
        if packed > ceiling:
            return f"{packed:,} bytes compressed, over {o.topic}'s max.message.bytes of {ceiling:,}"
        return None
