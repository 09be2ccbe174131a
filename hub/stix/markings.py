"""TLP 2.0 marking definitions (the OASIS TLP 2.0 extension, as misp-stix defines them) and their reading."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from misp_stix_converter.misp_stix_mapping import TLP2MarkingDefinitions

from schemas.markings import STIX_TLP, Tlp, strictest_tlp

# TLP 2.0 level -> its marking-definition id (fixed by the TLP 2.0 extension).
TLP2_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


def marking_refs(tlp: Tlp | None) -> list[str]:
    """`object_marking_refs` for a TLP level (none without one)."""
    return [TLP2_IDS[tlp]] if tlp is not None else []


def marking_definition(tlp: Tlp) -> dict[str, Any]:
    """The TLP 2.0 marking-definition object of `tlp`, as JSON."""
    found = TLP2MarkingDefinitions.by_uuid(TLP2_IDS[tlp])
    assert found is not None  # noqa: S101 - every TLP 2.0 id is defined there
    definition: dict[str, Any] = json.loads(found.serialize())
    return definition


def tlp_of(refs: Iterable[str]) -> Tlp | None:
    """The strictest TLP among marking refs (TLP 1.0 or 2.0 ids); None when none is a TLP marking."""
    return strictest_tlp([STIX_TLP[r.lower()] for r in refs if r.lower() in STIX_TLP])


def to_tlp2(refs: Iterable[str]) -> list[str]:
    """Marking refs with TLP 1.0 ids replaced by their TLP 2.0 ids (WHITE is CLEAR), other refs kept."""
    out: list[str] = []
    for ref in refs:
        level = STIX_TLP.get(ref.lower())
        new = TLP2_IDS[level] if level is not None else ref
        if new not in out:
            out.append(new)
    return out
