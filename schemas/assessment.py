"""Hybrid-threat assessment: what a fusion cell (EU HFC, NATO Hybrid Analysis Branch) publishes."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import HybridDomain


class Assessment(BaseModel):
    """One side's assessment; EU and NATO assessments of one subject share `parallel_group`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=500)
    summary: str = Field(min_length=1, max_length=20_000)
    key_judgements: tuple[str, ...] = Field(min_length=1, max_length=50)
    domains: tuple[HybridDomain, ...] = Field(min_length=1, description="Hybrid CoE/JRC model domains")
    confidence: int = Field(ge=0, le=100, description="Analytic confidence, 0-100")
    parallel_group: UUID | None = Field(
        None, description="Shared by the EU and NATO assessments of one subject, to pair them"
    )
    references: tuple[str, ...] = Field(default=(), max_length=200)
