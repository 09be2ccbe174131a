"""Warming up a worker: load what the first batch would otherwise pay for (galaxies, taxonomies, PyMISP)."""

from __future__ import annotations

from hub.core.tag import disarm_techniques, unknown_taxonomy_tags
from schemas.misp_event import MispEvent

# A MISP event of the shape PyMISP must load (an object, so the fast check hands it to PyMISP).
_EVENT = {
    "Event": {
        "uuid": "5f4b9c43-3c2f-4f43-9a56-2b1c4a7e0001",
        "info": "warm-up",
        "timestamp": "1780000000",
        "date": "2026-06-01",
        "Attribute": [{"type": "ip-dst", "category": "Network activity", "value": "203.0.113.1"}],
        "Object": [{"name": "file", "Attribute": [{"type": "sha256", "object_relation": "sha256", "value": "0" * 64}]}],
    }
}


def warm_up() -> None:
    """Load the DISARM galaxy, the taxonomies and PyMISP once, before the first batch."""
    disarm_techniques()
    unknown_taxonomy_tags(("tlp:clear",))
    MispEvent.model_validate(_EVENT)
