"""The hub's topics and their creation, with the configs production needs, every error surfaced."""

from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from hub.core.route import DECISIONS, REJECTED, SUBMITTED, inbox
from hub.errors import BrokerError
from hub.kafka.config import MAX_MESSAGE_BYTES, client_kwargs
from hub.kafka.errors import broker_error, describe
from hub.settings import KafkaSettings

HOUR_MS = 3_600_000


def topic_configs(k: KafkaSettings) -> dict[str, str]:
    """Configs of every hub topic: messages up to the hub's limit, acknowledged by enough replicas, kept long enough."""
    retention = -1 if k.retention_hours == -1 else int(k.retention_hours * HOUR_MS)
    return {
        "max.message.bytes": str(MAX_MESSAGE_BYTES),  # a large MISP event, compressed, must fit in one message
        "min.insync.replicas": str(k.min_insync),  # with acks=all: a write survives losing a broker
        "retention.ms": str(retention),  # undecided submissions and unread deliveries older than this are gone
    }


def hub_topics(k: KafkaSettings) -> list[NewTopic]:
    """The topics the hub owns, with their partition counts, replication and configs."""
    rf, configs = k.replication_factor, topic_configs(k)
    keyed = [SUBMITTED, inbox("EU"), inbox("NATO"), DECISIONS]
    topics = [NewTopic(t, num_partitions=k.partitions, replication_factor=rf, topic_configs=configs) for t in keyed]
    return [*topics, NewTopic(REJECTED, num_partitions=1, replication_factor=rf, topic_configs=configs)]


async def ensure_topics(k: KafkaSettings, bootstrap: str) -> None:
    """Create the hub's topics if they do not exist yet; BrokerError naming the topic and the cause otherwise."""
    admin = AIOKafkaAdminClient(**client_kwargs(k, bootstrap), request_timeout_ms=10_000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [t for t in hub_topics(k) if t.name not in existing]
        if missing:
            brokers = len((await admin.describe_cluster())["brokers"])
            if k.replication_factor > brokers:  # some brokers (Tansu) accept it silently and replicate nothing
                raise BrokerError(
                    f"Kafka at {bootstrap}: cannot create {', '.join(t.name for t in missing)} with replication factor"
                    f" {k.replication_factor}: the cluster has {brokers} broker{'s' if brokers != 1 else ''}"
                    " (set kafka.replication_factor to at most that)"
                )
            _raise_failures(bootstrap, await admin.create_topics(missing))
    except KafkaError as exc:
        raise broker_error(f"Kafka at {bootstrap} cannot be used", exc) from exc
    finally:
        await admin.close()


def _raise_failures(bootstrap: str, response: Any) -> None:
    """BrokerError for the first topic Kafka refused; a topic another worker created meanwhile is fine."""
    for topic, code, message, *_ in response.topic_errors:
        if code == 0:
            continue
        error = for_code(code)
        if error is TopicAlreadyExistsError:
            continue  # another worker or publisher won the race
        cause = f"{error.__name__}: {message}" if message else describe(error())
        raise BrokerError(f"Kafka at {bootstrap}: creating topic {topic} failed: {cause}")
