"""The committed JSON Schema files are exactly what the models generate."""

from __future__ import annotations

from schemas.export import SCHEMA_DIR, generated


def test_committed_schema_files_match_the_models():
    for name, text in generated().items():
        path = SCHEMA_DIR / name
        assert path.is_file(), f"{name} is missing: run `hub schemas export`"
        assert path.read_text(encoding="utf-8") == text, f"{name} drifted from the models: run `hub schemas export`"


def test_submission_schema_lists_the_three_kinds():
    import json

    doc = json.loads(generated()["submission.schema.json"])
    assert set(doc["discriminator"]["mapping"]) == {"assessment", "stratcom_note", "misp_event"}
