"""The hub's topics and their creation, with the configs production needs, every error surfaced."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from hub.core.route import CHECKPOINTS, DECISIONS, REJECTED, SUBMITTED, inbox
from hub.errors import BrokerError
from hub.kafka.config import MAX_MESSAGE_BYTES, client_kwargs, consumer_kwargs
from hub.kafka.errors import broker_error, describe
from hub.settings import KafkaSettings

log = logging.getLogger("hub.kafka")
MAX_MESSAGE_BYTES_CONFIG = "max.message.bytes"
DESCRIBE_TIMEOUT_MS = 10_000  # an admin request on a loaded broker; the worker starts without the answer after it
HOUR_MS = 3_600_000


def topic_configs(k: KafkaSettings) -> dict[str, str]:
    """Configs of every hub topic: messages up to the hub's limit, acknowledged by enough replicas, kept long enough."""
    retention = -1 if k.retention_hours == -1 else int(k.retention_hours * HOUR_MS)
    return {
        MAX_MESSAGE_BYTES_CONFIG: str(MAX_MESSAGE_BYTES),  # a large MISP event, compressed, must fit in one message
        "min.insync.replicas": str(k.min_insync),  # with acks=all: a write survives losing a broker
        "retention.ms": str(retention),  # undecided submissions and unread deliveries older than this are gone
    }


def hub_topics(k: KafkaSettings) -> list[NewTopic]:
    """The topics the hub owns, with their partition counts, replication and configs."""
    rf, configs = k.replication_factor, topic_configs(k)
    keyed = [SUBMITTED, inbox("EU"), inbox("NATO"), DECISIONS]
    topics = [NewTopic(t, num_partitions=k.partitions, replication_factor=rf, topic_configs=configs) for t in keyed]
    single = [
        NewTopic(t, num_partitions=1, replication_factor=rf, topic_configs=configs) for t in (REJECTED, CHECKPOINTS)
    ]
    return [*topics, *single]


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


async def message_limits(k: KafkaSettings, bootstrap: str, topics: Sequence[str]) -> dict[str, int]:
    """Each topic's `max.message.bytes` as the broker tells it; topics it does not tell are left out.

    Apache Kafka answers DescribeConfigs; the embedded Tansu broker closes the connection instead
    (it enforces no such limit), and then the producer's own limit is the only one.
    """
    admin = AIOKafkaAdminClient(**client_kwargs(k, bootstrap), request_timeout_ms=DESCRIBE_TIMEOUT_MS)
    wanted = [ConfigResource(ConfigResourceType.TOPIC, t, configs={MAX_MESSAGE_BYTES_CONFIG: None}) for t in topics]
    try:
        await admin.start()
        responses = await admin.describe_configs(wanted)
    except KafkaError as exc:
        log.info("the broker does not tell its topics' max.message.bytes (%s): the producer's limit applies", exc)
        return {}
    finally:
        await admin.close()
    return {name: limit for r in responses for name, limit in _limits(r.resources)}


def _limits(resources: Sequence[Any]) -> list[tuple[str, int]]:
    """(topic, max.message.bytes) from a DescribeConfigs response's resources, skipping errors."""
    found = []
    for error_code, _message, _type, name, entries, *_ in resources:
        for entry in entries if error_code == 0 else ():
            if entry[0] == MAX_MESSAGE_BYTES_CONFIG and str(entry[1]).isdigit():
                found.append((str(name), int(entry[1])))
    return found


READ_TIMEOUT_S = 30.0  # a whole small topic (checkpoints) is read well within this on a loaded broker


async def read_all(k: KafkaSettings, bootstrap: str, topic: str) -> list[tuple[int, bytes]]:
    """Every message of `topic` as (offset, value), from the start to its end now; BrokerError if unreachable."""
    consumer = AIOKafkaConsumer(**consumer_kwargs(k, bootstrap, None), consumer_timeout_ms=200)
    found: list[tuple[int, bytes]] = []
    try:
        await consumer.start()
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return []
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = asyncio.get_running_loop().time() + READ_TIMEOUT_S
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            if asyncio.get_running_loop().time() > deadline:
                raise BrokerError(f"{topic} could not be read to its end within {READ_TIMEOUT_S:.0f} s")
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found += [(r.offset, r.value or b"") for r in records]
    except KafkaError as exc:
        raise broker_error(f"{topic} at {bootstrap} cannot be read", exc) from exc
    finally:
        await consumer.stop()
    return found


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
