"""Topic creation: production configs on every topic, and every refusal surfaced as one clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from hub.errors import BrokerError
from hub.kafka.config import MAX_MESSAGE_BYTES
from hub.kafka.topics import _raise_failures, ensure_topics, hub_topics, topic_configs
from hub.settings import KafkaSettings

HUB_TOPICS = {"hub.submitted", "eu.inbox", "nato.inbox", "hub.decisions", "hub.rejected", "hub.checkpoints"}


def test_every_topic_gets_the_configs_production_needs():
    k = KafkaSettings(bootstrap="k:9092", replication_factor=3, retention_hours=168)
    topics = hub_topics(k)
    assert {t.name for t in topics} == HUB_TOPICS
    for t in topics:
        assert t.replication_factor == 3
        assert t.topic_configs == {
            "max.message.bytes": str(MAX_MESSAGE_BYTES),
            "min.insync.replicas": "2",
            "retention.ms": str(168 * 3_600_000),
        }
    assert topic_configs(KafkaSettings(retention_hours=-1))["retention.ms"] == "-1"
    assert topic_configs(KafkaSettings())["min.insync.replicas"] == "1"  # no replication: one replica is all
    assert topic_configs(KafkaSettings(replication_factor=5, min_insync_replicas=3))["min.insync.replicas"] == "3"


def test_a_refused_topic_is_named_with_its_cause_and_a_race_is_not_an_error():
    raced = SimpleNamespace(topic_errors=[("hub.submitted", 36, "Topic with this name already exists.")])
    _raise_failures("k:9092", raced)
    refused = SimpleNamespace(
        topic_errors=[
            ("eu.inbox", 0, None),
            ("nato.inbox", 38, "Replication factor: 3 larger than available brokers: 1."),
        ]
    )
    with pytest.raises(BrokerError) as caught:
        _raise_failures("k:9092", refused)
    assert str(caught.value) == (
        "Kafka at k:9092: creating topic nato.inbox failed: InvalidReplicationFactorError:"
        " Replication factor: 3 larger than available brokers: 1."
    )


@pytest.mark.broker
async def test_a_replication_factor_the_embedded_broker_cannot_meet_is_a_clear_error(broker):
    k = KafkaSettings(bootstrap=broker.bootstrap, replication_factor=3)
    with pytest.raises(BrokerError) as caught:
        await ensure_topics(k, broker.bootstrap)
    assert str(caught.value) == (
        f"Kafka at {broker.bootstrap}: cannot create hub.submitted, eu.inbox, nato.inbox, hub.decisions, hub.rejected,"
        " hub.checkpoints with replication factor 3: the cluster has 1 broker"
        " (set kafka.replication_factor to at most that)"
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        assert not HUB_TOPICS & set(await admin.list_topics())  # nothing half-made
    finally:
        await admin.close()


@pytest.mark.broker
async def test_topics_are_created_once_and_a_second_call_is_quiet(broker):
    k = KafkaSettings(bootstrap=broker.bootstrap, partitions=3)
    await ensure_topics(k, broker.bootstrap)
    await ensure_topics(k, broker.bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        assert HUB_TOPICS <= set(await admin.list_topics())
    finally:
        await admin.close()


@pytest.mark.broker
def test_hub_up_with_an_impossible_replication_factor_says_so_in_one_line(broker, tmp_path):
    env = {
        "HUB_KAFKA__BOOTSTRAP": broker.bootstrap,
        "HUB_KAFKA__REPLICATION_FACTOR": "3",
        "HUB_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "hub", "up"], env={**os.environ, **env}, capture_output=True, timeout=60
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.decode().splitlines() if line.startswith("hub: error: ")]
    assert len(errors) == 1
    assert "with replication factor 3: the cluster has 1 broker" in errors[0]
    assert "Traceback" not in done.stderr.decode()
