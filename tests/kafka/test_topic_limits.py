"""The topics' max.message.bytes as the broker tells it, and what happens when it does not."""

from __future__ import annotations

import pytest

from hub.kafka.topics import _limits, message_limits
from hub.settings import KafkaSettings


def test_a_describe_configs_answer_is_read_per_topic_skipping_errors():
    entry = ("max.message.bytes", "1048588", False, True, False)
    resources = [
        (0, None, 2, "nato.inbox", [entry]),
        (0, None, 2, "eu.inbox", [("max.message.bytes", "16777216", False, False, False, [])]),
        (3, "unknown topic", 2, "hub.rejected", []),
        (0, None, 2, "hub.decisions", [("cleanup.policy", "delete", False, True, False)]),
    ]
    assert _limits(resources) == [("nato.inbox", 1_048_588), ("eu.inbox", 16_777_216)]


@pytest.mark.broker
async def test_tansu_does_not_tell_so_none_is_assumed(broker):
    limits = await message_limits(KafkaSettings(bootstrap=broker.bootstrap), broker.bootstrap, ["nato.inbox"])
    assert limits == {}
