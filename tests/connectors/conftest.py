"""Fixtures of the connector tests: local MISP servers on loopback and the real MISP fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import MISP_FIXTURES
from tests.connectors.misp_server import MispServer


@pytest.fixture
def misp_servers() -> Iterator[Callable[[], MispServer]]:
    """Start MISP-API servers on loopback; all are stopped at teardown."""
    started: list[MispServer] = []

    def start() -> MispServer:
        server = MispServer().__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()


def fixture_event(name: str) -> dict[str, Any]:
    """The event body of one file of shared/fixtures/misp."""
    doc = json.loads((MISP_FIXTURES / name).read_text(encoding="utf-8"))
    return doc.get("Event", doc)


def whole_events() -> list[str]:
    """Fixture files holding a whole event: an `info` and a UUID (MISP refuses a feed event without one)."""
    names = []
    for path in sorted(MISP_FIXTURES.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        body = doc.get("Event", doc) if isinstance(doc, dict) else None
        if isinstance(body, dict) and "info" in body and "uuid" in body:
            names.append(path.name)
    return names
