"""Helpers of the operations tests: a worker with its health port, scrapes of `/metrics` and `/readyz`."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, str]:
    """(status, body) of GET http://127.0.0.1:port/path; (0, '') when nothing listens yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:  # noqa: S310 - loopback
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return 0, ""


def readyz(port: int) -> tuple[int, dict[str, Any] | None]:
    status, body = get(port, "/readyz")
    return status, (json.loads(body) if body else None)


def samples(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of `/metrics`, by sample name."""
    status, body = get(port, "/metrics")
    assert status == 200
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            found.setdefault(s.name, []).append((dict(s.labels), s.value))
    return found


def decisions(port: int) -> Counter[tuple[str, str, str]]:
    """`hub_decisions_total` summed by (kind, direction, decision)."""
    got: Counter[tuple[str, str, str]] = Counter()
    for labels, value in samples(port).get("hub_decisions_total", []):
        got[(labels["kind"], labels["direction"], labels["decision"])] += int(value)
    return got


def counted(counts_json: dict[str, Any]) -> Counter[tuple[str, str, str]]:
    """`hub counts --json` summed by (kind, direction, decision)."""
    got: Counter[tuple[str, str, str]] = Counter()
    for row in counts_json["counts"]:
        got[(row["kind"], row["direction"], row["decision"])] += row["n"]
    return got
