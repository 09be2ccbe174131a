"""`verify`: the hash chain end to end, contiguous seq, counts equal a recount; tampering names the record.

The ledger's triggers refuse UPDATE and DELETE, so each test does what a DBA would: switch them off
and change the table by hand. Every case runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from hub.audit.verify import check_chain, parse_anchor, verify
from hub.errors import ChainBroken, InputError
from hub.ledger import GENESIS, Ledger
from hub.ledger.records import chain_hash
from tests.audit.ledgers import many, outcome, tamper, write


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, ledger_url):
    return ledger_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def ten(url):
    """A ledger of ten records over two days; returns (url, records)."""
    led = Ledger(url)
    records = write(led, "2026-06-02", *many(6), outcome(decision="withheld"))
    records += write(led, "2026-06-03", outcome(kind="assessment", area="hybrid_threats"), *many(2, origin="NATO"))
    led.close()
    return url, records


INSERT_ROW = f"INSERT INTO ledger VALUES ({','.join(['%s'] * 21)})"  # noqa: S608 - the 21 columns


def run(url, anchor=None):
    led = Ledger(url)
    try:
        return verify(led, anchor)
    finally:
        led.close()


def test_an_untouched_ledger_verifies(ten):
    url, records = ten
    result = run(url)
    assert result.records == 10
    assert result.head == (10, records[-1].hash)
    assert result.count_rows == 4
    assert run(url, anchor=(4, records[3].hash)).records == 10


def test_editing_a_records_content_names_that_record(ten):
    url, records = ten
    tamper(url, "UPDATE ledger SET decision = 'delivered' WHERE seq = %s", (7,))
    with pytest.raises(ChainBroken, match=rf"^record seq 7 \(submission {records[6].submission_id}\): its hash does "
                       "not match its content; edited after it was written$") as err:  # fmt: skip
        run(url)
    assert err.value.seq == 7


def test_editing_and_rehashing_a_record_is_caught_at_the_next_link(ten):
    url, records = ten
    forged = records[4].body() | {"reason": "nothing to see"}
    tamper(url, "UPDATE ledger SET reason = %s, hash = %s WHERE seq = 5", ("nothing to see",
           chain_hash(records[4].prev_hash, forged)))  # fmt: skip
    with pytest.raises(ChainBroken, match=r"^record seq 6 \(submission .*\): its prev_hash is not the hash of seq 5"):
        run(url)


def test_deleting_a_record_names_the_missing_seq(ten):
    url, records = ten
    tamper(url, "DELETE FROM ledger WHERE seq = %s", (3,))
    with pytest.raises(ChainBroken, match=r"^record seq 3 missing: the chain jumps from seq 2 to record seq 4 ") as err:
        run(url)
    assert err.value.seq == 3


def test_deleting_the_last_record_shows_in_the_state_the_counts_and_against_an_anchor(ten):
    url, records = ten
    tamper(url, "DELETE FROM ledger WHERE seq = %s", (10,))
    with pytest.raises(ChainBroken, match=r"^the dedupe state holds misp_event:.*, which no record in the ledger set: "
                       r"its records were deleted"):  # fmt: skip
        run(url)
    tamper(url, "DELETE FROM items WHERE key = %s", (f"misp_event:{records[9].source_id}",))
    with pytest.raises(ChainBroken, match=r"^live counts for \(2026-06-03, cyber, misp_event, NATO->EU, delivered\) "
                       r"say 2 but the ledger records hold 1: records after seq 9 were deleted"):  # fmt: skip
        run(url)
    tamper(url, "UPDATE counts SET n = 1 WHERE day = '2026-06-03' AND direction = 'NATO->EU'")
    with pytest.raises(ChainBroken, match=r"^the chain heads table says chain 0 ends at record 10, but its records end "
                       r"at record 9: records deleted from the chain's end"):  # fmt: skip
        run(url)
    tamper(url, "UPDATE chain_heads SET chain_seq = 9, seq = 9, hash = %s WHERE chain = 0", (records[8].hash,))
    assert run(url).records == 9  # a careful forger fixed the state and the counts too; only what is kept outside tells
    with pytest.raises(ChainBroken, match=r"^record seq 10 of the anchor is missing: the ledger ends at seq 9$"):
        run(url, anchor=(10, records[9].hash))


def test_inserting_a_record_by_hand_names_it(ten):
    url, records = ten
    r = records[-1]
    row = (11, "forged-sid", r.decided_at, r.day, r.kind, r.area, r.direction, "delivered", r.rule, r.reason,
           r.originator, r.source_id, r.version, r.content_hash, r.tags, r.hash, "f" * 64,
           None, None, None, None)  # fmt: skip
    tamper(url, INSERT_ROW, row)
    with pytest.raises(ChainBroken, match=r"^record seq 11 \(submission forged-sid\): its hash does not match"):
        run(url)


def test_editing_the_counts_is_caught(ten):
    url, _ = ten
    tamper(url, "UPDATE counts SET n = n + 5 WHERE decision = 'withheld'")
    with pytest.raises(ChainBroken, match=r"^live counts for \(2026-06-02, cyber, misp_event, EU->NATO, withheld\) "
                       r"say 6 but the ledger records hold 1"):  # fmt: skip
        run(url)


def test_check_chain_starts_at_seq_1_and_genesis(ten):
    _, records = ten
    assert check_chain([]) == (0, GENESIS)
    with pytest.raises(ChainBroken, match=r"^record seq 1 missing"):
        check_chain(records[1:])


def test_anchors_are_parsed_strictly():
    assert parse_anchor("12:" + "a" * 64) == (12, "a" * 64)
    with pytest.raises(InputError, match=r"field `anchor`: '12:abc' is not SEQ:HASH"):
        parse_anchor("12:abc")
