"""Errors carry their context as attributes: an InputError reads like a rejection and names its field."""

from __future__ import annotations

import json

import pytest
from aiokafka.errors import CommitFailedError, KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError

from hub.cli.inputs import checked_items
from hub.core.validate import Invalid, validate
from hub.demo.scenario import mixed
from hub.errors import BrokerError, InputError
from hub.kafka.errors import broker_error, describe


def test_an_input_error_has_field_and_problem_and_reads_like_a_rejection():
    err = InputError("'PURPLE' is not one of CLEAR, GREEN", field="markings.tlp")
    assert (err.field, err.problem, err.item) == ("markings.tlp", "'PURPLE' is not one of CLEAR, GREEN", "")
    assert str(err) == Invalid("markings.tlp", "'PURPLE' is not one of CLEAR, GREEN").reason
    assert str(InputError("empty input", item="-")) == "-: empty input"
    assert str(InputError("bad", field="to", item="--to x")) == "--to x: field `to`: bad"


def test_publish_input_errors_carry_the_rejections_field_and_problem(tmp_path):
    doc = json.loads(mixed(total=1, duplicates=0, updates=0, red=0, malformed_n=0).items[0])
    doc["markings"]["tlp"] = "PURPLE"
    raw = json.dumps(doc).encode()
    rejection = validate(raw)
    assert isinstance(rejection, Invalid)
    path = tmp_path / "items.json"
    path.write_bytes(raw)
    with pytest.raises(InputError) as caught:
        list(checked_items(str(path)))
    assert (caught.value.field, caught.value.problem) == (rejection.field, rejection.problem)
    assert caught.value.field == "markings.tlp"
    assert str(caught.value) == f"{path}: item 1: {rejection.reason}"


@pytest.mark.parametrize(
    ("exc", "phrase"),
    [
        (KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 1)]"), "is the broker running"),
        (KafkaTimeoutError(), "timed out waiting for the broker"),
        (MessageSizeTooLargeError("too big"), "larger than the broker accepts"),
        (CommitFailedError("rebalanced"), "CommitFailedError"),
    ],
)
def test_kafka_errors_are_worded_in_one_place(exc, phrase):
    assert phrase in describe(exc)
    err = broker_error("Kafka at k:9092", exc)
    assert isinstance(err, BrokerError)
    assert str(err) == f"Kafka at k:9092: {describe(exc)}"
