"""The exchange hub's STIX 2.1 extension: the envelope fields STIX has no property for.

A hub item travels in STIX 2.1 as a `report` (an assessment, or a stratcom note with its DISARM
techniques as `attack-pattern` objects) whose properties STIX defines (name, description,
confidence, created, modified, external references, markings) carry what they can, and a property
extension of this shape carries the rest. The extension definition's `schema` names this model's
generated JSON Schema, `schemas/stix_extension.schema.json`.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import Area, AwareDatetime, HybridDomain, Kind, Side
from schemas.envelope import ProposalNumber
from schemas.markings import Pap
from schemas.stratcom import CountryCode, DisarmId, LanguageCode, Trend, Volume

EXTENSION_ID = "extension-definition--0b3c6a3e-7c59-4d0e-9a43-5e2d1f0c7a14"  # fixed once: STIX ids never change
EXTENSION_NAME = "exchange-hub envelope"
EXTENSION_VERSION = "1.0.0"


class HubStixExtension(BaseModel):
    """The hub's property extension on a STIX `report`: envelope fields and payload fields beyond STIX."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extension_type: Literal["property-extension"] = "property-extension"
    kind: Literal[Kind.ASSESSMENT, Kind.STRATCOM_NOTE, Kind.MISP_EVENT]
    origin: Side
    originator: str = Field(min_length=1, max_length=200)
    area: Area
    proposals: tuple[ProposalNumber, ...] = Field(default=(), max_length=74)
    tags: tuple[str, ...] = Field(default=(), max_length=1000)
    pap: Pap | None = None
    releasable_to: tuple[str, ...] | None = None
    releasable_to_nobody: bool = Field(
        False, description="releasable_to is the empty list: no recipient is named (STIX allows no empty list)"
    )
    originator_control: bool = False
    classification: str | None = None
    content_hash: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    created: AwareDatetime | None = Field(None, description="the envelope's created time, when STIX's cannot hold it")
    modified: AwareDatetime | None = Field(None, description="the envelope's modified time, when not its version")
    key_judgements: tuple[str, ...] | None = Field(None, description="assessment: its key judgements")
    domains: tuple[HybridDomain, ...] | None = Field(None, description="assessment: Hybrid CoE/JRC domains")
    parallel_group: UUID | None = Field(None, description="assessment: pairs the EU and NATO assessments")
    window_start: AwareDatetime | None = Field(None, description="stratcom note: start of the reporting window")
    window_end: AwareDatetime | None = Field(None, description="stratcom note: end of the reporting window")
    narratives: tuple[str, ...] | None = None
    platforms: tuple[str, ...] | None = None
    languages: tuple[LanguageCode, ...] | None = None
    target_countries: tuple[CountryCode, ...] | None = None
    disarm_techniques: tuple[DisarmId, ...] | None = Field(None, description="stratcom note: DISARM technique ids")
    volume: Volume | None = None
    trend: Trend | None = None
