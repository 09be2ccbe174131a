"""Faust's aiokafka transport, with a consumer that does not sit on empty fetches.

Faust hardcodes `fetch_max_wait_ms=1500` for its consumer. Tansu (the embedded broker) holds a
fetch for that long when it starts empty, even after records arrive, so a submission could wait
up to 1.5 s before the worker saw it (measured: ~540 ms median submit-to-inbox at 200/s). The
hub registers this transport under the URL scheme `hubkafka://` and uses it for every broker.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka

SCHEME = "hubkafka"
FETCH_MAX_WAIT_MS = 10  # an idle worker asks ~100 times a second; a busy one never waits


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread with the short fetch wait."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read by AIOKafkaConsumer.start()
        return consumer


class Consumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer using `ConsumerThread`."""

    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    """Faust's aiokafka transport using `Consumer`."""

    Consumer = Consumer


TRANSPORTS.aliases.setdefault(SCHEME, f"{__name__}:Transport")
