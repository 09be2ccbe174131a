"""Whether Kafka answers: one long-lived client asking for metadata, for the worker's `/readyz`."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

from hub.kafka.config import client_kwargs
from hub.kafka.errors import describe
from hub.settings import KafkaSettings

PROBE_TIMEOUT_S = 3.0  # a healthy broker answers metadata in milliseconds; a readiness check must not hang


class BrokerProbe:
    """Asks Kafka for its metadata; `check` returns None when it answered, else what went wrong."""

    def __init__(self, kafka: KafkaSettings, bootstrap: str) -> None:
        self.kafka = kafka
        self.bootstrap = bootstrap
        self._client: AIOKafkaClient | None = None

    async def check(self) -> str | None:
        """None if Kafka answered a metadata request within PROBE_TIMEOUT_S, else the reason."""
        try:
            if self._client is None:
                client = AIOKafkaClient(**client_kwargs(self.kafka, self.bootstrap), client_id="hub-probe")
                await asyncio.wait_for(client.bootstrap(), PROBE_TIMEOUT_S)
                self._client = client
            await asyncio.wait_for(self._client.fetch_all_metadata(), PROBE_TIMEOUT_S)
        except TimeoutError:
            return f"Kafka at {self.bootstrap}: no answer within {PROBE_TIMEOUT_S:.0f} s"
        except KafkaError as exc:
            return f"Kafka at {self.bootstrap}: {describe(exc)}"
        return None

    async def close(self) -> None:
        """Close the probe's connections."""
        if self._client is not None:
            await self._client.close()
            self._client = None
