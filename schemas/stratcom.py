"""Stratcom trend note: disinformation trends shared by EEAS task forces and NATO StratCom CoE."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.common import AwareDatetime

DisarmId = Annotated[str, StringConstraints(pattern=r"^T\d{4}(\.\d{3})?$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]  # ISO 639-1
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]  # ISO 3166-1 alpha-2


class Trend(StrEnum):
    """Direction of a narrative's activity over the window."""

    NEW = "new"
    RISING = "rising"
    STABLE = "stable"
    FALLING = "falling"


class Volume(BaseModel):
    """Volume metrics over the reporting window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: int = Field(ge=0, description="Pieces of content observed")
    accounts: int = Field(0, ge=0, description="Distinct accounts or outlets")
    engagements: int = Field(0, ge=0, description="Shares, likes, comments")


class StratcomNote(BaseModel):
    """A trend note over one reporting window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=500)
    window_start: AwareDatetime
    window_end: AwareDatetime
    narratives: tuple[str, ...] = Field(min_length=1, max_length=100)
    platforms: tuple[str, ...] = Field(default=(), max_length=100)
    languages: tuple[LanguageCode, ...] = Field(default=(), max_length=100)
    target_countries: tuple[CountryCode, ...] = Field(default=(), max_length=250)
    disarm_techniques: tuple[DisarmId, ...] = Field(default=(), max_length=200)
    volume: Volume
    trend: Trend

    @model_validator(mode="after")
    def _window_in_order(self) -> StratcomNote:
        if self.window_end < self.window_start:
            raise ValueError("window_end is before window_start")
        return self
