"""Vocabularies shared by every kind: sides, kinds, proposal areas, hybrid-threat domains."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator


class Side(StrEnum):
    """The two parties of the exchange."""

    EU = "EU"
    NATO = "NATO"

    @property
    def counterpart(self) -> Side:
        """The other side: where an item from this side is delivered."""
        return Side.NATO if self is Side.EU else Side.EU


class Kind(StrEnum):
    """The three kinds of content the hub carries."""

    ASSESSMENT = "assessment"
    STRATCOM_NOTE = "stratcom_note"
    MISP_EVENT = "misp_event"


class Area(StrEnum):
    """The seven areas of the 2016 Joint Declaration plus political dialogue."""

    HYBRID_THREATS = "hybrid_threats"
    OPERATIONAL_COOPERATION = "operational_cooperation"  # including maritime issues
    CYBER = "cyber"
    DEFENCE_CAPABILITIES = "defence_capabilities"
    DEFENCE_INDUSTRY_RESEARCH = "defence_industry_research"
    EXERCISES = "exercises"
    CAPACITY_BUILDING = "capacity_building"
    POLITICAL_DIALOGUE = "political_dialogue"


class HybridDomain(StrEnum):
    """The 13 domains of the Hybrid CoE / JRC conceptual model of hybrid threats."""

    INFRASTRUCTURE = "infrastructure"
    CYBER = "cyber"
    SPACE = "space"
    ECONOMY = "economy"
    MILITARY_DEFENCE = "military_defence"
    CULTURE = "culture"
    SOCIAL_SOCIETAL = "social_societal"
    PUBLIC_ADMINISTRATION = "public_administration"
    LEGAL = "legal"
    INTELLIGENCE = "intelligence"
    DIPLOMACY = "diplomacy"
    POLITICAL = "political"
    INFORMATION = "information"


def _require_tz(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone, e.g. 2024-05-01T12:00:00Z")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_require_tz)]
"""A timestamp with an explicit zone, stored in UTC."""
