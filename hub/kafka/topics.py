"""The hub's topics and their creation."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from hub.core.route import DECISIONS, REJECTED, SUBMITTED, inbox
from hub.kafka.config import client_kwargs
from hub.kafka.errors import broker_error
from hub.settings import KafkaSettings


def hub_topics(k: KafkaSettings) -> list[NewTopic]:
    """The topics the hub owns, with their partition counts."""
    rf = k.replication_factor
    keyed = [SUBMITTED, inbox("EU"), inbox("NATO"), DECISIONS]
    topics = [NewTopic(t, num_partitions=k.partitions, replication_factor=rf) for t in keyed]
    return [*topics, NewTopic(REJECTED, num_partitions=1, replication_factor=rf)]


async def ensure_topics(k: KafkaSettings, bootstrap: str) -> None:
    """Create the hub's topics if they do not exist yet; BrokerError if Kafka cannot be reached."""
    admin = AIOKafkaAdminClient(**client_kwargs(k, bootstrap), request_timeout_ms=10_000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [t for t in hub_topics(k) if t.name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another worker or publisher won the race
    except KafkaError as exc:
        raise broker_error(f"Kafka at {bootstrap} cannot be used", exc) from exc
    finally:
        await admin.close()
