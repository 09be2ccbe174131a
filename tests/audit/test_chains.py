"""The partitioned ledger: one hash chain per partition, each proved by `hub audit verify` and by the checkpoints.

A ledger written on four partitions keeps four chains with one seq order over them; an edit or a
deletion in any chain is named by its chain and place; a checkpoint signs every chain's head, so a
chain re-hashed to its end is caught even when the newest record is in another chain; a ledger
written before chains existed upgrades to chain 0 and still verifies.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.audit.verify import verify
from hub.config.keystore import hub_signer, load_keyring
from hub.errors import ChainBroken
from hub.ledger import GENESIS, Ledger
from hub.ledger.checkpoints import parse, sign
from hub.ledger.records import chain_hash
from hub.settings import load_settings
from tests.audit.ledgers import as_one_chain, many, outcome, tamper, write

AT = datetime(2026, 6, 3, 12, tzinfo=UTC)
CHAINS = (0, 1, 2, 3)  # the partitions of hub.submitted in the tests' settings


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, ledger_url):
    return ledger_url if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def chained(url):
    """Three rounds over the four partitions, three records per batch: 36 records, 9 per chain."""
    led = Ledger(url)
    records = []
    for day in ("2026-06-01", "2026-06-02", "2026-06-03"):
        for chain in CHAINS:
            records += write(led, day, *many(2, origin="NATO" if chain % 2 else "EU"), outcome(kind="assessment",
                             area="hybrid_threats"), chain=chain)  # fmt: skip
    led.close()
    return records


def run(url, checkpoints=(), settings=None):
    led = Ledger(url)
    try:
        return verify(led, None, checkpoints, load_keyring(settings.keyring) if settings else None)
    finally:
        led.close()


def test_each_partition_has_its_own_chain_and_verify_proves_all(url, chained):
    records = chained
    by_chain = {c: [r for r in records if r.chain == c] for c in CHAINS}
    for rs in by_chain.values():
        assert [r.chain_seq for r in rs] == list(range(1, 10))
        assert rs[0].prev_hash == GENESIS
        assert all(b.prev_hash == a.hash for a, b in zip(rs, rs[1:], strict=False))
    assert len({r.seq for r in records}) == 36
    assert [r.seq for r in records] == sorted(r.seq for r in records)
    led = Ledger(url)
    try:
        assert led.heads() == [(c, 9, by_chain[c][-1].hash) for c in CHAINS]
    finally:
        led.close()
    result = run(url)
    assert (result.records, result.chains, result.head) == (36, 4, (records[-1].seq, records[-1].hash))


@pytest.mark.parametrize("chain", CHAINS)
def test_an_edit_in_any_chain_is_named(url, chained, chain):
    victim = [r for r in chained if r.chain == chain][4]
    tamper(url, "UPDATE ledger SET reason = 'nothing to see' WHERE seq = %s", (victim.seq,))
    with pytest.raises(ChainBroken, match=rf"^record seq {victim.seq} \(submission {victim.submission_id}\): its hash"):
        run(url)


def test_a_record_deleted_inside_a_chain_is_named_by_its_chain_and_place(url, chained):
    rs = [r for r in chained if r.chain == 2]
    tamper(url, "DELETE FROM ledger WHERE seq = %s", (rs[3].seq,))
    with pytest.raises(ChainBroken, match=rf"^record 4 of chain 2 missing: the chain jumps from seq {rs[2].seq} to "):
        run(url)


def rehash_chain(url, records, chain, place, **changes):
    """A careful forger: edit record `place` of `chain`, re-hash that chain to its end and move its head."""
    rs = [r for r in records if r.chain == chain]
    prev = rs[place - 2].hash if place > 1 else GENESIS
    for r in rs[place - 1 :]:
        edited = r.chain_seq == place
        digest = chain_hash(prev, r.body() | (changes if edited else {}))
        sets = ", ".join(f"{k} = %s" for k in changes) + ", " if edited else ""
        tamper(url, f"UPDATE ledger SET {sets}prev_hash = %s, hash = %s WHERE seq = %s",  # noqa: S608 - test columns
               (*(changes.values() if edited else ()), prev, digest, r.seq))  # fmt: skip
        prev = digest
    tamper(url, "UPDATE chain_heads SET hash = %s WHERE chain = %s", (prev, chain))


def test_a_checkpoint_covers_every_chain_head_not_only_the_newest_record(url, chained, tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", ledger_url=url)
    led = Ledger(url)
    head, heads = led.head(), led.heads()
    led.close()
    made = sign(hub_signer(settings), *head, AT, heads)
    assert parse(made.line(), "line").heads == tuple(heads)  # the heads travel in the line and are signed
    assert run(url, [made], settings).checkpoints == 1
    rehash_chain(url, chained, 1, 5, reason="edited")  # chain 1: the newest record is in chain 3
    assert run(url).records == 36  # without a checkpoint the forgery holds
    with pytest.raises(ChainBroken, match=r"^record 9 of chain 1 no longer has the hash the hub signed at .* that "
                       r"chain was rewritten and re-hashed"):  # fmt: skip
        run(url, [made], settings)


def test_a_chain_cut_short_is_caught_by_a_checkpoint_of_its_head(url, chained, tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", ledger_url=url)
    led = Ledger(url)
    made = sign(hub_signer(settings), *led.head(), AT, led.heads())
    led.close()
    rs = [r for r in chained if r.chain == 0]
    cut = rs[-1]
    tamper(url, "DELETE FROM ledger WHERE seq = %s", (cut.seq,))
    tamper(url, "DELETE FROM items WHERE key = %s", (f"{cut.kind}:{cut.source_id}",))  # the state and counts fixed
    tamper(url, "UPDATE counts SET n = n - 1 WHERE day = %s AND kind = %s AND direction = %s AND decision = %s "
                "AND chain = 0", (cut.day, cut.kind, cut.direction, cut.decision))  # fmt: skip
    with pytest.raises(
        ChainBroken, match=r"^the chain heads table says chain 0 ends at record 9, but its records end at"
    ):
        run(url)  # the heads table tells without a checkpoint, unless the forger fixed it too
    tamper(url, "UPDATE chain_heads SET chain_seq = 8, seq = %s, hash = %s WHERE chain = 0", (rs[-2].seq, rs[-2].hash))
    with pytest.raises(ChainBroken, match=r"signed record 9 of chain 0 at .*, but that chain ends at record 8: records "
                       r"were deleted from its end"):  # fmt: skip
        run(url, [made], settings)


def test_a_forged_checkpoint_head_does_not_verify(url, chained, tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", ledger_url=url)
    led = Ledger(url)
    made = sign(hub_signer(settings), *led.head(), AT, led.heads())
    led.close()
    forged = parse(made.line().replace(f'"{made.heads[2][2]}"', f'"{"e" * 64}"'), "forged")
    with pytest.raises(ChainBroken, match=r"^checkpoint forged: its signature does not verify"):
        run(url, [forged], settings)


def test_a_ledger_of_one_chain_upgrades_to_chain_0_and_keeps_verifying(url):
    led = Ledger(url)
    write(led, "2026-06-01", *many(4), outcome(decision="withheld"), outcome(decision="rejected"))
    led.close()
    as_one_chain(url)  # as the hub before schema 5 left it
    led = Ledger(url)  # upgrades
    try:
        assert [(r.chain, r.chain_seq) for r in led.records()] == [(None, None)] * 6  # hashes unchanged
        head = led.heads()
        assert head == [(0, 6, list(led.records())[-1].hash)]
        assert run(url).records == 6
        more = write(led, "2026-06-02", *many(2), chain=0) + write(led, "2026-06-02", *many(3), chain=2)
    finally:
        led.close()
    assert [(r.chain, r.chain_seq) for r in more] == [(0, 7), (0, 8), (2, 1), (2, 2), (2, 3)]
    assert more[0].prev_hash == head[0][2]  # chain 0 goes on from the old records' head
    result = run(url)
    assert (result.records, result.chains) == (11, 2)
