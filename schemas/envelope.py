"""The exchange envelope common to all kinds, and one envelope class per kind.

`Submission` is the discriminated union the hub validates `hub.submitted` messages against.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, model_validator

from schemas.assessment import Assessment
from schemas.common import Area, AwareDatetime, Kind, Side
from schemas.markings import Markings, Reading, read_part, read_tags
from schemas.misp_event import MispEvent
from schemas.stratcom import StratcomNote

ProposalNumber = Annotated[int, Field(ge=1, le=74)]  # the 74 common proposals of 2016 and 2017


class EnvelopeBase(BaseModel):
    """Fields every exchanged item carries, whatever its kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    origin: Side = Field(description="The side that publishes the item")
    originator: str = Field(min_length=1, max_length=200, description="Publishing organisation")
    source_id: UUID = Field(description="Producer-assigned identity; the event UUID for MISP")
    version: AwareDatetime = Field(description="Modified time; the event timestamp for MISP")
    created: AwareDatetime
    modified: AwareDatetime
    markings: Markings = Field(default_factory=Markings)
    tags: tuple[str, ...] = Field(default=(), max_length=1000)
    area: Area
    proposals: tuple[ProposalNumber, ...] = Field(default=(), max_length=74)
    content_hash: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the canonical content (RFC 8785)"
    )

    @property
    def key(self) -> str:
        """The deduplication and partitioning key: kind and source id."""
        kind: str = getattr(self, "kind")  # noqa: B009 - defined by every subclass
        return f"{kind}:{self.source_id}"

    def tag_reading(self) -> Reading:
        """What the item's tags say (its own tags; a MISP event's own tags too), read as every part reads them."""
        return read_tags(self.tags)

    def reading(self) -> Reading:
        """Everything the item's markings say: the `markings` fields and every tag of the item itself."""
        return self.markings.reading() | self.tag_reading()

    @model_validator(mode="after")
    def _fold_tags(self) -> EnvelopeBase:
        """TLP and PAP tags folded into `markings`, strictest wins, so a receiver reads the same level."""
        markings = self.markings.folded(self.tag_reading())
        if markings is not self.markings:
            object.__setattr__(self, "markings", markings)
        return self


class AssessmentEnvelope(EnvelopeBase):
    """A hybrid-threat assessment in its envelope."""

    kind: Literal[Kind.ASSESSMENT] = Kind.ASSESSMENT
    payload: Assessment


class StratcomNoteEnvelope(EnvelopeBase):
    """A stratcom trend note in its envelope."""

    kind: Literal[Kind.STRATCOM_NOTE] = Kind.STRATCOM_NOTE
    payload: StratcomNote


class MispEventEnvelope(EnvelopeBase):
    """A MISP event in its envelope; identity, version, times and markings come from the event."""

    kind: Literal[Kind.MISP_EVENT] = Kind.MISP_EVENT
    payload: MispEvent

    @model_validator(mode="before")
    @classmethod
    def _lift_from_event(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or "payload" not in data:
            return data
        payload = data["payload"]
        try:
            event = (
                payload if isinstance(payload, MispEvent) else MispEvent.model_validate(payload, context=info.context)
            )
        except ValueError:
            return data  # the payload's own error is reported by field validation
        lifted = {"source_id": str(event.uuid), "version": event.timestamp.isoformat()}
        for name, value in lifted.items():
            given = data.get(name)
            if given is not None and str(given) != value and name == "source_id":
                raise ValueError(f"source_id {given!r} differs from Event.uuid {value!r}")
        merged = {**data, "payload": event, **lifted}
        merged.setdefault("created", event.created.isoformat())
        merged.setdefault("modified", event.timestamp.isoformat())
        return merged

    def tag_reading(self) -> Reading:
        """The envelope's tags and the event's own tags (local ones too: they say how the owner marked it)."""
        return read_tags(self.tags) | read_part(self.payload.Event)


Envelope = AssessmentEnvelope | StratcomNoteEnvelope | MispEventEnvelope
Submission = Annotated[Envelope, Field(discriminator="kind")]
SUBMISSION = TypeAdapter[Envelope](Submission)
"""Validates one submission from bytes or a dict: `SUBMISSION.validate_json(raw)`."""
