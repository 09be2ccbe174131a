"""Helpers of the files connectors' tests: envelopes a side's key may submit, drops by the convention, listings."""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.misp.envelope import ORGANISATIONS
from hub.demo.scenario import envelope
from hub.settings import ConnectorSettings
from schemas.common import Side

WHEN = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
KINDS = ("assessment", "stratcom_note", "misp_event")


def items(n: int, side: Side, seed: int = 15, kinds: tuple[str, ...] = KINDS, **extra: Any) -> list[dict[str, Any]]:
    """`n` valid envelopes of `side`, each of its own item, all from the organisation of `side`'s test key."""
    rng = random.Random(seed)
    made = []
    for i in range(n):
        item = envelope(rng, kinds[i % len(kinds)], side.value, WHEN + timedelta(minutes=i), **extra)
        item["originator"] = ORGANISATIONS[side]  # the key hub_settings gives a side's connectors
        made.append(item)
    return made


def drop(directory: Path, name: str, content: dict[str, Any] | bytes) -> Path:
    """Drop a file as the convention says: written under `.NAME.tmp`, then renamed to NAME."""
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    tmp = directory / f".{name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, directory / name)
    return directory / name


def listed(directory: Path) -> list[str]:
    """The names in `directory` a reader looks at: no hidden (temporary) files, no subdirectories."""
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith(".") and not p.is_dir())


def drop_config(directory: Path, side: Side, **extra: Any) -> ConnectorSettings:
    """A files connector with a drop directory only; files taken as soon as they are there."""
    fields = {"settle_s": 0, **extra}
    return ConnectorSettings(type="files", side=side.value, role="source", drop_dir=directory, **fields)


def inbox_config(directory: Path, side: Side, **extra: Any) -> ConnectorSettings:
    """A files connector with an inbox directory only."""
    return ConnectorSettings(type="files", side=side.value, role="sink", inbox_dir=directory, **extra)
