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


def _types(node: object) -> set[str]:
    if isinstance(node, dict):
        own = {node["type"]} if isinstance(node.get("type"), str) else set(node.get("type") or [])
        return own.union(*(_types(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_types(v) for v in node))
    return set()


def test_no_model_declares_a_float():
    # `hub.core.canonical.content_hash(plain=True)` skips the float check for documents without floats:
    # that holds only while no field turns an integer into a float. Add one and this fails.
    import json

    for name, text in generated().items():
        assert "number" not in _types(json.loads(text)), f"{name} declares a float field"
    assert "integer" in _types(json.loads(generated()["submission.schema.json"]))  # the walk sees types
