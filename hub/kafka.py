"""Kafka client configuration (aiokafka and Faust) and topic creation, from the settings."""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from hub.errors import BrokerError
from hub.route import DECISIONS, REJECTED, SUBMITTED, inbox
from hub.settings import KafkaSettings

MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # largest batch on the wire, compressed; Kafka topics need max.message.bytes >= it
MAX_RECORD_BYTES = 64 * 1024 * 1024  # largest value before compression (aiokafka checks it uncompressed)
COMPRESSION = "zstd"  # a 100,000-attribute MISP event: 22.6 MB of JSON, 3.8 MB on the wire (codec from cramjam)


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
        raise BrokerError(f"Kafka at {bootstrap} cannot be used: {exc}") from exc
    finally:
        await admin.close()
