"""The one translator of Kafka client errors into the hub's `BrokerError`, worded once.

try:
    await admin.start()
except KafkaError as exc:
    raise broker_error(f"Kafka at {bootstrap}", exc) from exc
"""

from __future__ import annotations

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, MessageSizeTooLargeError

from hub.errors import BrokerError


def describe(exc: BaseException) -> str:
    """A short phrase for a Kafka client error, naming what a person can check."""
    if isinstance(exc, KafkaConnectionError):
        return f"cannot connect ({exc}); is the broker running and the bootstrap address right?"
    if isinstance(exc, KafkaTimeoutError):
        return "timed out waiting for the broker"
    if isinstance(exc, MessageSizeTooLargeError):
        return f"a message is larger than the broker accepts ({exc})"
    if isinstance(exc, KafkaError):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def broker_error(what: str, exc: BaseException) -> BrokerError:
    """The BrokerError to raise (`from exc`) when `what` failed with the Kafka error `exc`."""
    return BrokerError(f"{what}: {describe(exc)}")
