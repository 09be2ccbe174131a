"""Reading submissions from a file or stdin: one JSON object, a JSON array, or JSON lines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hub.core.validate import Invalid, validate
from hub.errors import InputError


def read_items(source: str) -> list[bytes]:
    """The raw items in `source` (a path or `-`), one bytes value per submission."""
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", item=source) from exc
    text = data.lstrip()
    if not text:
        raise InputError("empty input, nothing to publish", item=source)
    if text[:1] == b"[":
        try:
            items = json.loads(data)
        except ValueError as exc:
            raise InputError(f"not valid JSON: {exc}", item=source) from exc
        return [json.dumps(item, ensure_ascii=False).encode() for item in items]
    lines = [line for line in data.splitlines() if line.strip()]
    if text[:1] == b"{" and len(lines) > 1 and not _all_objects(lines):
        return [data]  # one pretty-printed object over several lines
    return lines


def _all_objects(lines: list[bytes]) -> bool:
    try:
        return all(isinstance(json.loads(line), dict) for line in lines)
    except ValueError:
        return False


def check_items(source: str, items: list[bytes]) -> None:
    """Validate every item; InputError naming the first bad one, its field and the problem."""
    for number, raw in enumerate(items, start=1):
        result = validate(raw)
        if isinstance(result, Invalid):
            where = f"item {number}" if len(items) > 1 else "the item"
            raise InputError(result.problem, field=result.field, item=f"{source}: {where}")
