"""`hub audit list` and `hub audit verify` through the command: the records behind a figure, withheld
items without content, and tampering reported in one line with a non-zero exit."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from hub.audit.listing import FIELDS, Filters, filters, listed
from hub.errors import InputError
from hub.ledger import Ledger
from tests.audit.ledgers import many, outcome, tamper, write

pytestmark = pytest.mark.e2e


def hub(url, *args):
    env = {**os.environ, "HUB_LEDGER_URL": url}
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def ledger(ledger_url):
    led = Ledger(ledger_url)
    write(led, "2026-05-30", *many(3, kind="assessment", area="hybrid_threats", origin="NATO"))
    write(led, "2026-06-02", *many(4), outcome(decision="withheld"), outcome(decision="rejected"))
    write(led, "2026-06-20", *many(2, decision="updated", origin="NATO"), outcome(decision="duplicate"))
    yield led
    led.close()


def test_filters_select_the_records_behind_a_figure(ledger):
    every = list(listed(ledger, Filters()))
    assert [d["seq"] for d in every] == list(range(1, 13))
    assert list(every[0]) == list(FIELDS)
    june = filters({"kind": ["misp_event"], "decision": ["delivered,updated"]}, "2026-06-01", "2026-06-30")
    assert [d["seq"] for d in listed(ledger, june)] == [4, 5, 6, 7, 10, 11]
    nato = filters({"direction": ["NATO->EU"], "area": ["hybrid_threats", "cyber"]}, None, "2026-06-01")
    assert [d["originator"] for d in listed(ledger, nato)] == ["NATO Hybrid Analysis Branch"] * 3
    rejected = next(iter(listed(ledger, filters({"decision": ["rejected"]}, None, None))))
    assert (rejected["originator"], rejected["kind"], rejected["reason"]) == (
        None,
        "misp_event",
        "field `version`: missing",
    )


def test_withheld_items_are_listed_without_content(ledger):
    held = list(listed(ledger, filters({"decision": ["withheld"]}, None, None)))
    assert len(held) == 1
    assert held[0]["content_hash"] is None
    assert held[0]["tags"] is None
    assert held[0]["reason"] == "TLP:RED may not leave its originator"
    assert held[0]["source_id"] is not None  # the item's id stays: the auditor can ask its originator
    delivered = next(iter(listed(ledger, filters({"decision": ["delivered"]}, None, None))))
    assert delivered["content_hash"] == "ab" * 32
    assert delivered["tags"] == ["tlp:green", "disarm:T0022"]


def test_bad_filters_are_refused_naming_the_field():
    with pytest.raises(InputError, match=r"field `direction`: 'EU-NATO' is not one of EU->NATO, NATO->EU, unknown"):
        filters({"direction": ["EU-NATO"]}, None, None)
    with pytest.raises(InputError, match=r"field `to`: '30/06/2026' is not a date"):
        filters({}, None, "30/06/2026")


def test_list_command_json_recounts_to_the_counts(ledger, ledger_url):
    proc = hub(ledger_url, "audit", "list", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["count"] == 12
    recount = Counter((r["day"], r["area"], r["kind"], r["direction"], r["decision"]) for r in doc["records"])
    assert sorted((*k, n) for k, n in recount.items()) == ledger.counts()
    proc = hub(ledger_url, "audit", "list", "--decision", "withheld", "--from", "2026-06-01")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["seq"], r["content_hash"], r["tags"], r["decision"]) for r in rows] == [("8", "", "", "withheld")]
    bad = hub(ledger_url, "audit", "list", "--kind", "memo")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "hub: error: field `kind`: 'memo' is not one of assessment, stratcom_note, misp_event, unknown"
    ]


def test_verify_command_exits_non_zero_naming_the_edited_record(ledger, ledger_url):
    ok = hub(ledger_url, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    head = ledger.head()
    assert ok.stdout.splitlines()[0] == f"ledger verified: 12 records chained from seq 1 to 12; head 12:{head[1]}"
    sid = next(ledger.records(after_seq=4)).submission_id
    tamper(ledger_url, "UPDATE ledger SET originator = 'NCIRC' WHERE seq = 5")
    bad = hub(ledger_url, "audit", "verify")
    assert bad.returncode == 1
    assert bad.stderr.splitlines() == [
        f"hub: error: record seq 5 (submission {sid}): its hash does not match its content; edited after it was written"
    ]
    assert bad.stdout == ""
