"""Signed checkpoints against a DBA who rewrites the ledger: re-hashed chains, edited state, BLOBs, forged checkpoints.

Each tamper is what someone with the database's own rights would do: switch the append-only guard
off, change the tables by hand (recomputing every hash, count and dedupe entry to match), switch it
back on. Only what the hub signed with its own key, kept outside the database, still tells.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit.verify import verify
from hub.config.keystore import hub_signer, load_keyring
from hub.core.signing import Signer
from hub.errors import ChainBroken
from hub.ledger import Ledger
from hub.ledger.checkpoints import Checkpoint, append, read, sign
from hub.ledger.records import chain_hash
from hub.settings import load_settings
from tests.audit.ledgers import many, outcome, tamper, write

AT = datetime(2026, 6, 3, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, ledger_url):
    return ledger_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def settings(tmp_path, url):
    return load_settings(data_dir=tmp_path / "data", ledger_url=url)


@pytest.fixture
def signed(settings, url):
    """Ten records; the hub signed the head at seq 5 and at seq 10 into the checkpoint file."""
    led = Ledger(url)
    records = write(led, "2026-06-02", *many(4), outcome(decision="withheld"))
    signer = hub_signer(settings)
    append(settings.checkpoint_file, sign(signer, 5, records[-1].hash, AT))
    records += write(led, "2026-06-03", *many(3, origin="NATO"), outcome(kind="assessment", area="hybrid_threats"),
                     outcome(decision="rejected"))  # fmt: skip
    append(settings.checkpoint_file, sign(signer, 10, records[-1].hash, AT))
    led.close()
    return records


def check(settings, checkpoints=None):
    led = Ledger(settings.ledger)
    try:
        found = read(settings.checkpoint_file) if checkpoints is None else checkpoints
        return verify(led, None, found, load_keyring(settings.keyring))
    finally:
        led.close()


def rewrite(url, records, seq, **changes):
    """Edit record `seq`, then re-hash it and every later record so that the chain holds again."""
    prev = records[seq - 2].hash if seq > 1 else "0" * 64
    for r in records[seq - 1 :]:
        body = r.body() | (changes if r.seq == seq else {})
        digest = chain_hash(prev, body)
        sets = ", ".join(f"{k} = %s" for k in changes) + ", " if r.seq == seq else ""
        tamper(url, f"UPDATE ledger SET {sets}prev_hash = %s, hash = %s WHERE seq = %s",  # noqa: S608 - test columns
               (*(changes.values() if r.seq == seq else ()), prev, digest, r.seq))  # fmt: skip
        prev = digest
    tamper(url, "UPDATE chain_heads SET hash = %s WHERE chain = 0", (prev,))  # the forger moves the head too


def hub_cli(settings, *args):
    env = {**os.environ, "HUB_LEDGER_URL": settings.ledger, "HUB_DATA_DIR": str(settings.data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "hub", "audit", "verify", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_an_untouched_ledger_holds_against_its_checkpoints(settings, signed):
    result = check(settings)
    assert (result.records, result.checkpoints, result.items) == (10, 2, 9)
    run = hub_cli(settings)
    assert run.returncode == 0, run.stderr
    assert "2 checkpoints signed by the hub hold (the last: seq 10 at 2026-06-03T12:00:00+00:00)" in run.stdout
    assert "dedupe state equals a recomputation from the records (9 items)" in run.stdout


def test_a_decision_edited_and_everything_recomputed_is_caught_by_any_later_checkpoint(settings, signed, url):
    records = signed
    rewrite(url, records, 3, decision="withheld", reason="TLP:RED may not leave its originator", tags="[]")
    key = f"misp_event:{records[2].source_id}"
    tamper(url, "UPDATE items SET delivered = 0 WHERE key = %s", (key,))
    tamper(url, "UPDATE counts SET n = n - 1 WHERE decision = 'delivered' AND day = '2026-06-02'")
    tamper(url, "UPDATE counts SET n = n + 1 WHERE decision = 'withheld' AND day = '2026-06-02'")
    assert check(settings, checkpoints=[]).records == 10  # without a checkpoint the forgery holds
    with pytest.raises(ChainBroken, match=r"^record seq 5 no longer has the hash the hub signed at .* the chain was "
                       r"rewritten after seq 0 and re-hashed"):  # fmt: skip
        check(settings)
    later = [c for c in read(settings.checkpoint_file) if c.seq == 10]
    with pytest.raises(ChainBroken, match=r"^record seq 10 no longer has the hash the hub signed"):
        check(settings, checkpoints=later)
    run = hub_cli(settings)
    assert run.returncode == 1
    assert run.stderr.startswith("hub: error: record seq 5 no longer has the hash the hub signed")
    assert run.stderr.count("\n") == 1


def test_records_deleted_from_the_end_are_caught_by_a_checkpoint_past_them(settings, signed, url):
    records = signed
    for r in records[7:]:
        tamper(url, "DELETE FROM ledger WHERE seq = %s", (r.seq,))
        if r.source_id:
            tamper(url, "DELETE FROM items WHERE key = %s", (f"{r.kind}:{r.source_id}",))
    tamper(url, "DELETE FROM counts WHERE day = '2026-06-03'")
    tamper(
        url,
        "INSERT INTO counts (day, area, kind, direction, decision, chain, n) "
        "VALUES ('2026-06-03', 'cyber', 'misp_event', 'NATO->EU', 'delivered', 0, 2)",
    )
    tamper(url, "UPDATE chain_heads SET chain_seq = 7, seq = 7, hash = %s WHERE chain = 0", (records[6].hash,))
    assert check(settings, checkpoints=[]).records == 7
    with pytest.raises(ChainBroken, match=r"signed record seq 10 at .*, but the ledger ends at seq 7: records were "
                       r"deleted from its end"):  # fmt: skip
        check(settings)


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [("delivered", 0, "delivered '0' but record seq 2 gives '1'"),
     ("version", "2030-01-01T00:00:00+00:00", "version '2030-01-01T00:00:00\\+00:00' but record seq 2 gives"),
     ("content_hash", "c" * 64, "content_hash 'cccc"),
     ("origin", "NATO", "origin 'NATO' but record seq 2 gives 'EU'")],
)  # fmt: skip
def test_an_edited_dedupe_state_is_caught(settings, signed, url, column, value, shown):
    key = f"misp_event:{signed[1].source_id}"
    tamper(url, f"UPDATE items SET {column} = %s WHERE key = %s", (value, key))  # noqa: S608 - a test's column
    with pytest.raises(ChainBroken, match=rf"^the dedupe state of {key} says {shown}.*: the items table was edited"):
        check(settings)


def test_dedupe_state_inserted_or_deleted_by_hand_is_caught(settings, signed, url):
    sql = "INSERT INTO items (key, version, content_hash, origin, delivered, owner) VALUES (%s, %s, %s, %s, %s, %s)"
    tamper(url, sql, ("misp_event:forged", "2026-01-01T00:00:00+00:00", "d" * 64, "EU", 1, "EU:CERT-EU"))
    with pytest.raises(ChainBroken, match=r"holds misp_event:forged, which no record in the ledger set"):
        check(settings)
    tamper(url, "DELETE FROM items WHERE key = 'misp_event:forged'")
    tamper(url, "DELETE FROM items WHERE key = %s", (f"misp_event:{signed[0].source_id}",))
    with pytest.raises(ChainBroken, match=r"lacks misp_event:.*, set by record seq 1: deleted by hand"):
        check(settings)


@pytest.mark.parametrize("column", ["reason", "submission_id", "tags", "decision", "seq"])
def test_a_blob_in_a_record_field_is_one_line_naming_the_record(settings, signed, url, column):
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL's typed columns refuse a BLOB in a text or number column; SQLite stores it")
    tamper(url, f"UPDATE ledger SET {column} = %s WHERE seq = 4", (b"\x00\xff\x00",))  # noqa: S608 - a test's column
    run = hub_cli(settings)
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1
    assert "Traceback" not in run.stderr
    assert f"field `{column}` holds a BLOB; written by hand, not by the hub" in run.stderr
    seq = "b'\\x00\\xff\\x00'" if column == "seq" else "4"
    sid = "b'\\x00\\xff\\x00'" if column == "submission_id" else signed[3].submission_id
    assert run.stderr.startswith(f"hub: error: record seq {seq} (submission {sid}): field `{column}`")


def test_a_blob_read_past_the_database_check_is_named_too(signed):
    from dataclasses import replace

    from hub.audit.verify import check_chain

    broken = [*signed[:3], replace(signed[3], reason=b"\x00\xff"), *signed[4:]]
    with pytest.raises(ChainBroken, match=rf"^record seq 4 \(submission {signed[3].submission_id}\): field `reason` "
                       "holds a BLOB of 2 bytes where text belongs"):  # fmt: skip
        check_chain(broken)


def test_a_forged_checkpoint_is_refused(settings, signed):
    good = read(settings.checkpoint_file)[0]
    rogue = sign(Signer.of(Ed25519PrivateKey.generate()), good.seq, good.hash, AT)
    with pytest.raises(ChainBroken, match=r"is not one of the hub's keys in the keyring"):
        check(settings, checkpoints=[rogue])
    altered = Checkpoint(good.seq, "e" * 64, good.at, good.key, good.sig, "altered")
    with pytest.raises(ChainBroken, match=r"^checkpoint altered: its signature does not verify with hub key"):
        check(settings, checkpoints=[altered])


def test_a_checkpoint_file_given_on_the_command_line_is_checked(settings, signed, tmp_path):
    elsewhere = tmp_path / "offsite.jsonl"
    elsewhere.write_text(settings.checkpoint_file.read_text())
    settings.checkpoint_file.unlink()
    assert "no signed checkpoint given or found" in hub_cli(settings).stdout
    run = hub_cli(settings, "--checkpoints", str(elsewhere))
    assert run.returncode == 0, run.stderr
    assert "2 checkpoints signed by the hub hold" in run.stdout
    elsewhere.write_text('{"seq": "x"}\n')
    bad = hub_cli(settings, "--checkpoints", str(elsewhere))
    assert (bad.returncode, bad.stderr) == (
        2,
        f"hub: error: checkpoint {elsewhere}:1: field `seq` is missing or not a int\n",
    )
