"""What of a refused item may be shown on the shared topics: nothing, unless it is openly marked.

`hub.rejected` and `hub.decisions` can be read by both sides (without topic ACLs, by anyone on the
broker). A rejected item was never judged by the release policy, so its content, its hash and any
reason quoting it stay off those topics unless the item is openly marked: readable JSON whose every
marking, at every level, says TLP:CLEAR or TLP:GREEN, with no PAP:RED, no classification, no
unreadable marking, no `releasable_to` or originator control, and only the MISP distributions that
reach every community (1, 2, 3, or 5 to inherit). What cannot be read is not openly marked (fail
closed). Untrusted items (unsigned, forged, unknown key) are never parsed at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from schemas.markings import NOTHING, Pap, Reading, Tlp, parse_pap, parse_tlp, read_part
from schemas.misp_event import read_distribution

OPEN_CHECK_MAX_BYTES = 1024 * 1024  # larger refused items are not parsed again to look for markings: shown as closed
OPEN_TLP = frozenset({Tlp.CLEAR, Tlp.GREEN})  # community-wide at most: whoever reads a shared topic may see it
OPEN_DISTRIBUTIONS = frozenset({1, 2, 3, 5})  # community, connected, all, inherit; never 0 or a sharing group


def _field_reading(markings: Mapping[str, Any]) -> Reading | None:
    """The levels named in an envelope's `markings` fields; None when one cannot be read or restricts release."""
    if markings.get("classification") or markings.get("releasable_to") is not None:
        return None
    if markings.get("originator_control") not in (None, False):
        return None
    try:
        tlps = [parse_tlp(v) for v in _listed(markings.get("tlp"))]
        paps = [parse_pap(v) for v in _listed(markings.get("pap"))]
    except (ValueError, TypeError, AttributeError):
        return None
    reading = NOTHING
    for tlp in tlps:
        reading = reading | Reading(tlp=tlp)
    for pap in paps:
        reading = reading | Reading(pap=pap)
    return reading


def _listed(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def _walk(node: Any, found: list[Reading]) -> bool:
    """Gather the reading of every object in `node`; False at the first distribution that is not open."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            found.append(read_part(current))
            if "distribution" in current and read_distribution(current["distribution"]) not in OPEN_DISTRIBUTIONS:
                return False
            stack.extend(v for v in current.values() if isinstance(v, dict | list))
        elif isinstance(current, list):
            stack.extend(v for v in current if isinstance(v, dict | list))
    return True


def open_document(raw: bytes) -> bool:
    """True when the submission `raw` is openly marked (see the module docstring) and may be shown."""
    if len(raw) > OPEN_CHECK_MAX_BYTES:
        return False
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    markings = doc.get("markings", {}) if isinstance(doc, dict) else None
    if not isinstance(markings, dict):
        return False
    fields = _field_reading(markings)
    found: list[Reading] = []
    if fields is None or not _walk(doc, found):
        return False
    reading = fields
    for part in found:
        reading = reading | part
    return (
        reading.tlp in OPEN_TLP
        and reading.pap is not Pap.RED
        and not reading.classifications
        and not reading.unreadable
    )
