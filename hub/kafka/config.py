"""Kafka client configuration, built in one place from the settings for aiokafka and Faust alike.

Every client of the hub (the worker's Faust app, the batch engine's consumer and producer, the
publishers, the connectors' inbox consumers, the admin client) takes its arguments from here, so a
setting such as the session timeout or SASL is turned into client arguments once.
"""

from __future__ import annotations

import ssl
from typing import Any

from hub.core.sizes import OutputLimits
from hub.settings import KafkaSettings, Settings

MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # largest batch on the wire, compressed; Kafka topics need max.message.bytes >= it
MAX_RECORD_BYTES = 64 * 1024 * 1024  # largest value before compression (aiokafka checks it uncompressed)
# The most one fetched record batch may inflate to: the largest record with room for its key and
# headers. A batch beyond it is refused whole before anything inflates it (hub.kafka.guard).
BATCH_CEILING = MAX_RECORD_BYTES + 1024 * 1024
COMPRESSION = "zstd"  # a 100,000-attribute MISP event: 22.6 MB of JSON, 3.8 MB on the wire (codec from cramjam)
PRODUCER_BATCH_BYTES = 1024 * 1024  # one compressed request per partition per batch of outputs, not hundreds
ENGINE_LINGER_MS = 0  # a batch's outputs are queued without yielding to the sender, so they share requests anyway
PUBLISHER_LINGER_MS = 5  # batches a publisher's burst together at no visible latency cost
FETCH_MAX_WAIT_MS = 10  # Tansu holds an empty fetch for the whole wait even when records arrive
COMMIT_INTERVAL_S = 0.5  # Faust's default too: a crash replays at most ~0.5 s of decided input


ZSTD_LEVEL = 3  # aiokafka's zstd level (Kafka's default): the compressed size measured is the one sent


def zstd_size(value: bytes) -> int:
    """`value`'s size once the producer compressed it."""
    import cramjam

    return len(cramjam.zstd.compress(value, level=ZSTD_LEVEL))


def output_limits(topic_bytes: dict[str, int]) -> OutputLimits:
    """The ceilings of the hub's outputs: the producer's own, and the topics' the broker told."""
    return OutputLimits(MAX_RECORD_BYTES, dict(topic_bytes), zstd_size)


def _ssl_context(k: KafkaSettings) -> ssl.SSLContext | None:
    if "SSL" not in k.security_protocol:
        return None
    ctx = ssl.create_default_context(cafile=str(k.ssl_cafile) if k.ssl_cafile else None)
    if k.ssl_certfile:
        ctx.load_cert_chain(str(k.ssl_certfile), str(k.ssl_keyfile) if k.ssl_keyfile else None)
    return ctx


def client_kwargs(k: KafkaSettings, bootstrap: str) -> dict[str, Any]:
    """Keyword arguments shared by aiokafka producers, consumers and admin clients."""
    kwargs: dict[str, Any] = {"bootstrap_servers": bootstrap.split(","), "security_protocol": k.security_protocol}
    if k.sasl_mechanism:
        kwargs["sasl_mechanism"] = k.sasl_mechanism
        kwargs["sasl_plain_username"] = k.sasl_username
        kwargs["sasl_plain_password"] = k.sasl_password.get_secret_value() if k.sasl_password else None
    ctx = _ssl_context(k)
    if ctx is not None:
        kwargs["ssl_context"] = ctx
    return kwargs


def group_timing(k: KafkaSettings) -> tuple[float, float, float]:
    """(session, heartbeat, rebalance) timeouts in seconds for a consumer group member."""
    session = k.session_timeout
    return session, max(0.1, session / 6), max(2.0, session)


def consumer_kwargs(k: KafkaSettings, bootstrap: str, group: str | None) -> dict[str, Any]:
    """aiokafka consumer arguments: manual commits from the earliest offset, messages up to the hub's limit."""
    session, heartbeat, rebalance = group_timing(k)
    return {
        **client_kwargs(k, bootstrap),
        "group_id": group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": int(session * 1000),
        "heartbeat_interval_ms": int(heartbeat * 1000),
        "rebalance_timeout_ms": int(rebalance * 1000),
        "max_partition_fetch_bytes": MAX_MESSAGE_BYTES,
        "fetch_max_bytes": 4 * MAX_MESSAGE_BYTES,
    }


def producer_kwargs(k: KafkaSettings, bootstrap: str, linger_ms: int) -> dict[str, Any]:
    """aiokafka producer arguments: acknowledged by every in-sync replica, zstd, values up to the hub's limit."""
    return {
        **client_kwargs(k, bootstrap),
        "acks": "all",
        "compression_type": COMPRESSION,
        "max_batch_size": PRODUCER_BATCH_BYTES,
        "linger_ms": linger_ms,
        "max_request_size": MAX_RECORD_BYTES,
    }


def faust_credentials(k: KafkaSettings) -> Any:
    """Faust's `broker_credentials` for these settings, or None for PLAINTEXT."""
    import faust

    ctx = _ssl_context(k)
    if k.sasl_mechanism:
        password = k.sasl_password.get_secret_value() if k.sasl_password else ""
        return faust.SASLCredentials(
            username=k.sasl_username, password=password, mechanism=k.sasl_mechanism, ssl_context=ctx
        )
    return faust.SSLCredentials(ctx) if ctx is not None else None


def faust_arguments(settings: Settings, bootstrap: str) -> dict[str, Any]:
    """The Faust app's keyword arguments: the same broker, credentials and timings as every other client."""
    k = settings.kafka
    session, heartbeat, rebalance = group_timing(k)
    return {
        "broker": [f"kafka://{b}" for b in bootstrap.split(",")],
        "broker_credentials": faust_credentials(k),
        "store": "memory://",
        "web_enabled": False,
        "datadir": str(settings.data_dir / "faust"),
        "broker_session_timeout": session,
        "broker_heartbeat_interval": heartbeat,
        "broker_rebalance_timeout": rebalance,
        "broker_commit_interval": COMMIT_INTERVAL_S,
        "producer_acks": -1,
        "producer_max_request_size": MAX_RECORD_BYTES,
        "producer_compression_type": COMPRESSION,
        "consumer_auto_offset_reset": "earliest",
        "consumer_max_fetch_size": MAX_MESSAGE_BYTES,
        "topic_partitions": k.partitions,
        "topic_replication_factor": k.replication_factor,
    }
