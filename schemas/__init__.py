"""Contracts of the exchange hub: pydantic models are the source, JSON Schema files are generated."""

from schemas.assessment import Assessment
from schemas.common import Area, HybridDomain, Kind, Side
from schemas.envelope import (
    SUBMISSION,
    AssessmentEnvelope,
    Envelope,
    MispEventEnvelope,
    StratcomNoteEnvelope,
)
from schemas.markings import Markings, Pap, Tlp
from schemas.misp_event import MispEvent
from schemas.stratcom import StratcomNote

__all__ = [
    "SUBMISSION",
    "Area",
    "Assessment",
    "AssessmentEnvelope",
    "Envelope",
    "HybridDomain",
    "Kind",
    "Markings",
    "MispEvent",
    "MispEventEnvelope",
    "Pap",
    "Side",
    "StratcomNote",
    "StratcomNoteEnvelope",
    "Tlp",
]
