"""JSON Schema files generated from the pydantic models: the contracts other teams code against."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.envelope import SUBMISSION, AssessmentEnvelope, MispEventEnvelope, StratcomNoteEnvelope
from schemas.stix_extension import HubStixExtension

SCHEMA_DIR = Path(__file__).parent

MODELS: dict[str, type[BaseModel]] = {
    "assessment.schema.json": AssessmentEnvelope,
    "stratcom_note.schema.json": StratcomNoteEnvelope,
    "misp_event.schema.json": MispEventEnvelope,
    "stix_extension.schema.json": HubStixExtension,
}


def generated() -> dict[str, str]:
    """File name to JSON Schema text, for every contract."""
    docs: dict[str, dict[str, Any]] = {name: model.model_json_schema() for name, model in MODELS.items()}
    docs["submission.schema.json"] = SUBMISSION.json_schema()
    for name, doc in docs.items():
        doc["$id"] = f"https://exchange-hub.invalid/schemas/{name}"
    return {name: json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n" for name, doc in docs.items()}


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file into `directory`; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
