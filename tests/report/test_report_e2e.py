"""End to end through the `hub` command after `hub demo`: report = counts = a recount of the audit listing,
the ledger verifies, and a record edited or deleted by hand makes `hub audit verify` fail naming it."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest

from tests.audit.ledgers import tamper

pytestmark = pytest.mark.e2e


def hub(data_dir, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HUB_DATA_DIR": str(data_dir)}
    env.pop("HUB_LEDGER_URL", None)
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, env=env, timeout=180)


def test_after_the_demo_report_counts_and_audit_list_agree_and_tampering_is_named(tmp_path):
    data = tmp_path / "data"
    demo = hub(data, "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr

    report = json.loads(hub(data, "report", "--format", "json").stdout)
    counts = json.loads(hub(data, "counts", "--json").stdout)
    listing = json.loads(hub(data, "audit", "list", "--format", "json").stdout)
    assert report["counts"] == counts["counts"]
    assert report["totals"] == counts["totals"]
    recount = Counter((r["day"], r["area"], r["kind"], r["direction"], r["decision"]) for r in listing["records"])
    assert [{"day": k[0], "area": k[1], "kind": k[2], "direction": k[3], "decision": k[4], "n": n}
            for k, n in sorted(recount.items())] == counts["counts"]  # fmt: skip
    total = sum(counts["totals"].values())
    assert listing["count"] == total >= 120  # the demo's 120 submissions, and whatever else it adds

    cert = sum(r["n"] for r in counts["counts"] if r["kind"] == "misp_event" and r["decision"] == "delivered")
    fr = hub(data, "report", "--lang", "fr").stdout
    noun = "événements" if cert >= 2 else "événement"
    assert f"La CERT-UE et la NCIRC ont échangé des informations sur {cert} {noun} au total depuis" in fr
    en = hub(data, "report", "--lang", "en", "--format", "html", "--out", str(tmp_path / "r.html"))
    assert en.returncode == 0
    assert (tmp_path / "r.html").read_text().count("<svg") == 2

    ok = hub(data, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"ledger verified: {total} records chained from seq 1 to {total};")

    url = f"sqlite:///{data / 'ledger.db'}"
    db = sqlite3.connect(data / "ledger.db")
    sid30, sid7 = (db.execute("SELECT submission_id FROM ledger WHERE seq = ?", (s,)).fetchone()[0] for s in (30, 7))
    chain7, place7 = db.execute("SELECT chain, chain_seq FROM ledger WHERE seq = 7").fetchone()  # its partition's chain
    db.close()
    tamper(url, "UPDATE ledger SET area = 'exercises' WHERE seq = 30")
    edited = hub(data, "audit", "verify")
    assert edited.returncode == 1
    assert edited.stderr.splitlines() == [
        f"hub: error: record seq 30 (submission {sid30}): its hash does not match its content; "
        "edited after it was written"
    ]
    tamper(url, "DELETE FROM ledger WHERE seq = 7")
    deleted = hub(data, "audit", "verify")
    assert deleted.returncode == 1
    # named by its place in its partition's chain (or, the last of its chain, by that chain's head)
    place = rf"(record seq 7|record {place7} of chain {chain7}) missing: the chain jumps from "
    named = rf"hub: error: ({place}|the chain heads table says chain {chain7} )"
    assert re.match(named, deleted.stderr), deleted.stderr
    assert sid7 not in deleted.stderr
