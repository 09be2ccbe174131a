"""Markings: TLP 2.0, PAP, releasability, originator control, classification.

Inputs are normalised from MISP tags (`tlp:white` is CLEAR, `tlp:amber+strict`, `PAP:*`), TLP
names in any case, and the STIX TLP 1.0 and 2.0 marking-definition ids. When several markings of
one scale are given, the most restrictive wins.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 levels, from least to most restrictive."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Pap(StrEnum):
    """Permissible Actions Protocol levels, from least to most restrictive."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    RED = "RED"


TLP_ORDER = list(Tlp)
PAP_ORDER = list(Pap)

# STIX 2.1 TLP 1.0 marking definitions (STIX 2.1 spec, section 7.2.1.4) and the TLP 2.0
# definitions of the OASIS TLP 2.0 extension; ids are fixed by those documents.
STIX_TLP: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Tlp.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Tlp.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Tlp.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": Tlp.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Tlp.RED,
}
_TLP_ALIASES = {"WHITE": Tlp.CLEAR, "AMBER-STRICT": Tlp.AMBER_STRICT}
_PAP_ALIASES = {"WHITE": Pap.CLEAR}


def parse_tlp(value: str) -> Tlp:
    """Normalise one TLP marking (name, MISP tag or STIX id); ValueError if unknown."""
    raw = value.strip()
    if raw.lower() in STIX_TLP:
        return STIX_TLP[raw.lower()]
    name = raw.split(":", 1)[1] if raw.lower().startswith("tlp:") else raw
    name = name.strip().strip('"').upper()
    if name in _TLP_ALIASES:
        return _TLP_ALIASES[name]
    try:
        return Tlp(name)
    except ValueError:
        allowed = ", ".join(t.value for t in Tlp)
        raise ValueError(f"{value!r} is not one of {allowed}") from None


def parse_pap(value: str) -> Pap:
    """Normalise one PAP marking (name or MISP `PAP:*` tag); ValueError if unknown."""
    raw = value.strip()
    name = raw.split(":", 1)[1] if raw.lower().startswith("pap:") else raw
    name = name.strip().strip('"').upper()
    if name in _PAP_ALIASES:
        return _PAP_ALIASES[name]
    try:
        return Pap(name)
    except ValueError:
        allowed = ", ".join(p.value for p in Pap)
        raise ValueError(f"{value!r} is not one of {allowed}") from None


def strictest_tlp(levels: list[Tlp]) -> Tlp | None:
    """The most restrictive of `levels`, or None for none."""
    return max(levels, key=TLP_ORDER.index) if levels else None


def strictest_pap(levels: list[Pap]) -> Pap | None:
    """The most restrictive of `levels`, or None for none."""
    return max(levels, key=PAP_ORDER.index) if levels else None


def is_tlp_tag(tag: str) -> bool:
    """True for a MISP `tlp:*` tag or a STIX TLP marking id."""
    return tag.lower().startswith("tlp:") or tag.lower() in STIX_TLP


def is_pap_tag(tag: str) -> bool:
    """True for a MISP `PAP:*` tag."""
    return tag.lower().startswith("pap:")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class Markings(BaseModel):
    """What may be done with an item and who may receive it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tlp: Tlp | None = Field(None, description="TLP 2.0; a list or STIX ids are reduced to the strictest")
    pap: Pap | None = None
    releasable_to: tuple[str, ...] | None = Field(
        None, description="Sides or organisations the item may go to; absent means unrestricted by this field"
    )
    originator_control: bool = Field(False, description="ORCON: release needs the originator's consent")
    classification: str | None = Field(None, description="A security classification marking, if any")

    @field_validator("tlp", mode="before")
    @classmethod
    def _normalise_tlp(cls, value: Any) -> Tlp | None:
        items = _as_list(value)
        if not all(isinstance(v, str | Tlp) for v in items):
            raise ValueError("must be a TLP name, a MISP tlp:* tag or a STIX TLP marking id")
        return strictest_tlp([v if isinstance(v, Tlp) else parse_tlp(v) for v in items])

    @field_validator("pap", mode="before")
    @classmethod
    def _normalise_pap(cls, value: Any) -> Pap | None:
        items = _as_list(value)
        if not all(isinstance(v, str | Pap) for v in items):
            raise ValueError("must be a PAP name or a MISP PAP:* tag")
        return strictest_pap([v if isinstance(v, Pap) else parse_pap(v) for v in items])

    def merged_with_tags(self, tags: list[str]) -> Markings:
        """These markings with the TLP and PAP tags in `tags` folded in; strictest wins."""
        tlps = [parse_tlp(t) for t in tags if is_tlp_tag(t) and not t.lower().startswith("tlp:ex:")]
        paps = [parse_pap(t) for t in tags if is_pap_tag(t)]
        tlp = strictest_tlp(tlps + ([self.tlp] if self.tlp else []))
        pap = strictest_pap(paps + ([self.pap] if self.pap else []))
        if tlp == self.tlp and pap == self.pap:
            return self
        return self.model_copy(update={"tlp": tlp, "pap": pap})
