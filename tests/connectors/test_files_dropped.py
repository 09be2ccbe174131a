"""What a dropped file holds: an envelope sent byte for byte, a STIX bundle mapped back, or a one-line reason."""

from __future__ import annotations

import codecs
import json

import pytest

from connectors.files.dropped import Submission, submission_id, submission_of
from hub.core.admit import is_safe_sid
from hub.core.validate import DEFAULT_LIMITS
from hub.stix.convert import bundle, stix_objects
from schemas.common import Side
from schemas.envelope import SUBMISSION
from tests.connectors.drops import items


def test_an_envelope_is_sent_byte_for_byte_less_a_byte_order_mark():
    item = items(1, Side.EU)[0]
    data = json.dumps(item, indent=1).encode()
    found = submission_of(codecs.BOM_UTF8 + data, Side.EU, DEFAULT_LIMITS)
    assert isinstance(found, Submission)
    assert found.raw == data
    assert found.item == f"assessment:{item['source_id']}"


def test_a_stix_bundle_becomes_the_envelope_it_maps():
    for item in items(2, Side.NATO, kinds=("assessment", "stratcom_note")):
        delivered = json.loads(SUBMISSION.validate_python(item).model_dump_json())
        found = submission_of(json.dumps(bundle(stix_objects(delivered))).encode(), Side.NATO, DEFAULT_LIMITS)
        assert isinstance(found, Submission)
        assert json.loads(SUBMISSION.validate_json(found.raw).model_dump_json()) == delivered


def test_the_submission_id_is_stable_for_a_file_and_apart_for_any_other():
    sid = submission_id("/srv/drop", "a.json", b"{}", "key-1")
    assert sid == submission_id("/srv/drop", "a.json", b"{}", "key-1")  # the same file after a crash: a replay
    others = {
        submission_id("/srv/drop", "b.json", b"{}", "key-1"),  # same bytes, another name: its own submission
        submission_id("/srv/drop", "a.json", b"{ }", "key-1"),  # other bytes
        submission_id("/srv/drop", "a.json", b"{}", "key-2"),  # another key: not `sid-reuse`
        submission_id("/srv/drop2", "a.json", b"{}", "key-1"),  # another drop directory
        submission_id("/srv/drop", "a.json", b"{}", None),
    }
    assert sid not in others
    assert len(others) == 5
    assert sid.startswith("file-")
    assert len(sid) == 45
    assert is_safe_sid(sid.encode())


GOOD = items(1, Side.EU)[0]


def _with(**changes):
    return json.dumps({**GOOD, **changes}).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty"),
        (b" \n\t", "is empty"),
        (codecs.BOM_UTF8 + b"\n", "is empty"),
        (codecs.BOM_UTF16_LE + '{"kind": 1}'.encode("utf-16-le"), "is UTF-16 text: save it as UTF-8"),
        (codecs.BOM_UTF32_LE + '{"kind": 1}'.encode("utf-32-le"), "is UTF-32 text: save it as UTF-8"),
        (b'{"a": "caf\xe9"}', "is not UTF-8 text (byte 11 cannot be read)"),
        (codecs.BOM_UTF8 + b'{"a": "caf\xe9"}', "is not UTF-8 text (byte 14 cannot be read)"),
        (b'{"kind": "assessment"', "is not JSON: Expecting ',' delimiter (line 1, column 22)"),
        (b"[1, 2]", "holds a JSON array: a dropped file holds one envelope (an object) or one STIX bundle"),
        (b'"text"', "holds a JSON string: a dropped file holds one envelope (an object) or one STIX bundle"),
        (b"42", "holds a JSON number: a dropped file holds one envelope (an object) or one STIX bundle"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a' in one JSON object: it is ambiguous which value holds"),
        (b'{"a": 9007199254740993}', "number 9007199254740993 is beyond ±2^53-1"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b"[" * 100_000, "not a valid JSON document: nested too deeply"),
        (_with(markings={"tlp": "PURPLE"}), "field `markings.tlp`: 'PURPLE' is not one of CLEAR, GREEN,"),
        (_with(kind="podcast"), "field `kind`: 'podcast' is not one of assessment, stratcom_note, misp_event"),
        (_with(origin="NATO"), "field `origin`: 'NATO', but this is the drop directory of the EU side"),
        (b'{"type": "bundle", "objects": []}', "STIX bundle: a submitted bundle holds exactly one report"),
        (b'{"type": "bundle", "objects": {}}', "STIX bundle: `objects` must be a list of STIX objects"),
    ],
)  # fmt: skip
def test_what_cannot_be_sent_is_one_line_naming_the_problem(data, reason):
    found = submission_of(data, Side.EU, DEFAULT_LIMITS)
    assert isinstance(found, str)
    assert found.startswith(reason), found
    assert "\n" not in found


def test_a_bundle_whose_report_lost_a_field_names_it():
    delivered = json.loads(SUBMISSION.validate_python(GOOD).model_dump_json())
    objects = stix_objects(delivered)
    report = next(o for o in objects if o["type"] == "report")
    del report["modified"]
    found = submission_of(json.dumps(bundle(objects)).encode(), Side.EU, DEFAULT_LIMITS)
    assert found == "STIX bundle: 'modified' is missing"
