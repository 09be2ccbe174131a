"""The metrics registry on its own: decisions, bounded rejection labels, lag and connectors read at scrape time."""

from __future__ import annotations

import json

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from hub.core.decide import Submitted, decide_all
from hub.core.decision import Decision
from hub.core.policy import ReleasePolicy
from hub.core.validate import validate
from hub.worker.metrics import HubMetrics, rejected_field
from hub.worker.status import ConnectorHealth
from tests.unit.test_decide import NOTHING, NOW, item


def scrape(metrics: HubMetrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for s in family.samples:
            found.setdefault(s.name, []).append((dict(s.labels), s.value))
    return found


def test_decisions_and_rejections_are_counted_with_bounded_labels():
    bad_tlp = item()
    bad_tlp["markings"]["tlp"] = "PURPLE"
    extra = item(seed=2)
    extra["attacker_field_9f3a"] = 1  # a field name an attacker chose must not become a label
    raws = [json.dumps(d).encode() for d in (item(seed=3), bad_tlp, extra)] + [b"\xff"]
    batch = [Submitted(f"s{i}", r) for i, r in enumerate(raws)]
    outcomes = decide_all(batch, [validate(r) for r in raws], NOTHING, ReleasePolicy(), NOW).fresh
    metrics = HubMetrics()
    metrics.decided(outcomes, replayed=2)
    got = scrape(metrics)
    decisions = {(d["kind"], d["direction"], d["decision"], d["rule"]): v for d, v in got["hub_decisions_total"]}
    assert decisions == {
        ("assessment", "EU->NATO", "delivered", "new"): 1,
        ("assessment", "EU->NATO", "rejected", "invalid"): 2,
        ("unknown", "unknown", "rejected", "invalid"): 1,
    }
    rejected = {(labels["rule"], labels["field"]): v for labels, v in got["hub_rejected_total"]}
    assert rejected == {("invalid", "markings"): 1, ("invalid", "other"): 1, ("invalid", ""): 1}
    assert got["hub_replayed_total"] == [({}, 2.0)]
    assert [o.decision for o in outcomes].count(Decision.REJECTED) == 3


def test_rejected_field_forms():
    assert rejected_field("field `markings.tlp`: 'PURPLE' is not one of …") == "markings"
    assert rejected_field("field `payload.Event.Attribute.3.value`: bad") == "payload"
    assert rejected_field("field `Markings`: x") == "other"  # case matters: not an envelope field
    assert rejected_field("field ` kind`: x") == "other"
    assert rejected_field("field `x" + "y" * 500 + "`: x") == "other"
    assert rejected_field("not valid UTF-8 at byte 0") == ""
    assert rejected_field("unsigned: no hub-sig header") == ""


def test_lag_and_connectors_are_read_at_each_scrape():
    lag = {0: 5, 1: 0}
    eu = ConnectorHealth("misp-rest-eu-0123456789", "EU", "both")
    metrics = HubMetrics()
    metrics.watch(lambda: dict(lag), [eu])
    first = scrape(metrics)
    assert sorted((labels["partition"], v) for labels, v in first["hub_consumer_lag"]) == [("0", 5.0), ("1", 0.0)]
    assert "hub_connector_watermark_seconds" not in first  # nothing pulled yet
    assert first["hub_connector_errors_total"] == [({"connector": eu.name, "side": "EU", "role": "both"}, 0.0)]
    lag[0] = 0
    eu.watermark = 1780000000
    eu.succeeded()
    eu.refused += 2
    eu.failed("MISP at https://misp.example/ answered 500")
    second = scrape(metrics)
    assert [v for _, v in second["hub_consumer_lag"]] == [0.0, 0.0]
    assert second["hub_connector_watermark_seconds"][0][1] == 1780000000.0
    assert second["hub_connector_last_success_seconds"][0][1] > 1.7e9
    assert second["hub_connector_errors_total"][0][1] == 1.0
    assert eu.last_error == "MISP at https://misp.example/ answered 500"
    refused = [v for labels, v in second["hub_connector_items_total"] if labels["what"] == "refused"]
    assert refused == [2.0]
