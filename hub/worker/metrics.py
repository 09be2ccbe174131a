"""The worker's Prometheus metrics: decisions, rejections, batch and ledger latencies, lag, connectors.

One `CollectorRegistry` per worker (no global state): counters and histograms are updated as
batches are decided; consumer lag and the connectors' facts are read at each scrape from the
engine and the `ConnectorHealth` objects. Counters count what this worker decided since it
started (replays after a crash are not counted again), so the sum over all workers of
`hub_decisions_total` grows exactly as `hub counts` does; Prometheus' `rate()` handles restarts.

Label values are bounded: kind, direction, decision and rule come from fixed vocabularies, and a
rejection's field is its top-level envelope field or `other` (an attacker's field names never
become labels).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.core.decision import Decision, Outcome
from hub.worker.status import ConnectorHealth
from schemas.envelope import AssessmentEnvelope

# Batches take ~5 ms (one item) to ~1 s (1,000 signed items on 2 cores); the buckets span that and retries.
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LEDGER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
ENVELOPE_FIELDS = frozenset(AssessmentEnvelope.model_fields)  # the fields every kind's envelope shares
_FIELD = re.compile(r"^field `([^`.\[]+)")  # the top-level field of a rejection's reason (Invalid.reason)


def rejected_field(reason: str) -> str:
    """The top-level envelope field a rejection names, `other` for any other field, or '' for none."""
    found = _FIELD.match(reason)
    if found is None:
        return ""
    return found.group(1) if found.group(1) in ENVELOPE_FIELDS else "other"


class HubMetrics:
    """The metrics of one worker, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.decisions = Counter(
            "hub_decisions", "Decisions made by this worker", ["kind", "direction", "decision", "rule"], registry=r
        )
        self.rejected = Counter("hub_rejected", "Rejections by rule and top-level field", ["rule", "field"], registry=r)
        self.replayed = Counter("hub_replayed", "Submissions read again after a crash or rebalance", registry=r)
        self.batch_seconds = Histogram(
            "hub_batch_seconds",
            "A batch from its fetch to its outputs' acknowledgements",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.ledger_seconds = Histogram(
            "hub_ledger_append_seconds", "One batch's ledger transaction", buckets=LEDGER_BUCKETS, registry=r
        )

    def decided(self, outcomes: Iterable[Outcome], replayed: int) -> None:
        """Count a batch's fresh outcomes and its replays."""
        for o in outcomes:
            self.decisions.labels(o.kind, o.direction, o.decision.value, o.rule).inc()
            if o.decision is Decision.REJECTED:
                self.rejected.labels(o.rule, rejected_field(o.reason)).inc()
        if replayed:
            self.replayed.inc(replayed)

    def watch(self, lag: Callable[[], dict[int, int]], connectors: Sequence[ConnectorHealth]) -> None:
        """Read consumer lag and the connectors' statuses at each scrape."""
        self.registry.register(_Live(lag, connectors))


class _Live(Collector):
    """Gauges read at scrape time: lag per partition, and each connector's facts."""

    def __init__(self, lag: Callable[[], dict[int, int]], connectors: Sequence[ConnectorHealth]) -> None:
        self.lag = lag
        self.connectors = connectors

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # collected live only: nothing to describe in advance

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        lag = GaugeMetricFamily(
            "hub_consumer_lag", "Records of hub.submitted not yet read, by partition", labels=["partition"]
        )
        for partition, behind in sorted(self.lag().items()):
            lag.add_metric([str(partition)], behind)
        yield lag
        labels = ["connector", "side", "role"]
        watermark = GaugeMetricFamily(
            "hub_connector_watermark_seconds", "A source's saved progress (Unix time)", labels=labels
        )
        success = GaugeMetricFamily(
            "hub_connector_last_success_seconds", "A connector's last good round (Unix time)", labels=labels
        )
        errors = CounterMetricFamily("hub_connector_errors", "A connector's failed rounds", labels=labels)
        items = CounterMetricFamily(
            "hub_connector_items",
            "Items a connector submitted, applied or recorded as refused",
            labels=[*labels, "what"],
        )
        for c in self.connectors:
            key = [c.name, c.side, c.role]
            if c.watermark is not None:
                watermark.add_metric(key, c.watermark)
            if c.last_success is not None:
                success.add_metric(key, c.last_success)
            errors.add_metric(key, c.errors)
            for what in ("submitted", "applied", "refused"):
                items.add_metric([*key, what], getattr(c, what))
        yield from (watermark, success, errors, items)
