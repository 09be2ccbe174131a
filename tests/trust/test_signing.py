"""Signed submissions: the hub admits what a registered key signed for its own side and organisation."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import hub.core.admit
from hub.config.keystore import load_keyring
from hub.core.decide import Submitted, admit
from hub.core.policy import ReleasePolicy
from hub.core.signing import KEY_HEADER, SIG_HEADER, Signer, Trust
from hub.core.validate import Invalid, Valid
from hub.demo.scenario import BASE_TIME, ORGS, envelope
from hub.ledger import Ledger
from hub.worker.batch import decide_batch
from tests.conftest import TEST_KEYS, TEST_SIGNERS, write_test_keyring

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
EU_ORG = ORGS["EU"]["assessment"]


@pytest.fixture
def trust(tmp_path):
    return Trust(load_keyring(write_test_keyring(tmp_path / "keyring.json")), required=True)


def item(kind="assessment", origin="EU", **changes) -> bytes:
    doc = envelope(random.Random(7), kind, origin, BASE_TIME)
    doc.update(changes)
    return json.dumps(doc).encode()


def signed(raw: bytes, signer=TEST_SIGNERS) -> Submitted:
    return Submitted("s1", raw, tuple(signer.headers(raw)))


@pytest.mark.parametrize(
    ("kind", "origin"), [(k, o) for k in ("assessment", "stratcom_note", "misp_event") for o in ORGS]
)
def test_items_signed_by_their_originator_are_admitted(trust, kind, origin):
    assert isinstance(admit(signed(item(kind, origin)), trust), Valid)


def test_the_signature_covers_the_exact_bytes_sent(trust):
    raw = item()
    relaid = json.dumps(json.loads(raw), indent=3, sort_keys=True).encode()  # the same document, other bytes
    moved = Submitted("s1", relaid, tuple(TEST_SIGNERS.headers(raw)))
    assert rule_of(admit(moved, trust)) == "forged"
    assert isinstance(admit(Submitted("s1", relaid, tuple(TEST_SIGNERS.headers(relaid))), trust), Valid)


def test_an_untrusted_item_is_never_parsed_or_validated(trust, monkeypatch):
    """Trust first: the verdict on the signature comes before any parse; untrusted items cost only that check."""
    validated: list[bytes] = []
    real = hub.core.admit.validate
    monkeypatch.setattr(hub.core.admit, "validate", lambda raw, *limits: validated.append(raw) or real(raw, *limits))
    good, rogue = item(), Signer.of(Ed25519PrivateKey.generate())
    forged_headers = tuple(TEST_SIGNERS.headers(good))
    batch = [
        Submitted("unsigned", item("stratcom_note")),
        Submitted("unknown", item("misp_event"), tuple(rogue.headers(item("misp_event")))),
        Submitted("forged", good + b" ", forged_headers),
        Submitted("good", good, forged_headers),
    ]
    results = hub.core.admit.admit_all(batch, trust)
    assert [getattr(r, "rule", "valid") for r in results] == ["unsigned", "unknown-key", "forged", "valid"]
    assert validated == [good]  # only the item whose signature checked out was parsed
    assert all(r.hint.kind == "unknown" for r in results[:3])  # nothing was read from the untrusted ones


def rule_of(result) -> str:
    assert isinstance(result, Invalid), result
    assert result.reason
    return result.rule


def test_unsigned_is_rejected_when_required_and_admitted_when_not(trust):
    assert rule_of(admit(Submitted("s1", item()), trust)) == "unsigned"
    assert isinstance(admit(Submitted("s1", item()), Trust(trust.keyring, required=False)), Valid)


def test_altered_after_signing_is_forged(trust):
    raw = item()
    doc = json.loads(raw)
    doc["markings"]["tlp"] = "CLEAR"
    altered = Submitted("s1", json.dumps(doc).encode(), tuple(TEST_SIGNERS.headers(raw)))
    result = admit(altered, trust)
    assert rule_of(result) == "forged"
    assert "does not match the content" in result.reason


def test_a_signature_by_an_unregistered_key_is_unknown_key(trust):
    rogue = Signer.of(Ed25519PrivateKey.generate())
    assert rule_of(admit(signed(item(), rogue), trust)) == "unknown-key"


def test_a_registered_key_id_with_another_keys_signature_is_forged(trust):
    raw = item()
    real = Signer.of(TEST_KEYS[("EU", EU_ORG)])
    sig = Signer.of(Ed25519PrivateKey.generate()).sign(raw)
    headers = ((KEY_HEADER, real.key_id.encode()), (SIG_HEADER, base64.b64encode(sig)))
    assert rule_of(admit(Submitted("s1", raw, headers), trust)) == "forged"


@pytest.mark.parametrize(
    "headers",
    [
        ((KEY_HEADER, b"k"),),
        ((SIG_HEADER, b"c2ln"),),
        ((KEY_HEADER, b"k"), (SIG_HEADER, b"not base64!")),
    ],
)
def test_malformed_signature_headers_are_refused(trust, headers):
    kid = Signer.of(TEST_KEYS[("EU", EU_ORG)]).key_id.encode()
    fixed = tuple((n, kid if n == KEY_HEADER else v) for n, v in headers)
    assert rule_of(admit(Submitted("s1", item(), fixed), trust)) in {"forged", "unknown-key"}


def test_two_signatures_are_refused(trust):
    raw = item()
    headers = tuple(TEST_SIGNERS.headers(raw)) * 2
    assert rule_of(admit(Submitted("s1", raw, headers), trust)) == "forged"


def test_an_eu_key_cannot_publish_as_nato(trust):
    raw = item(origin="NATO")
    eu = Signer.of(TEST_KEYS[("EU", EU_ORG)])
    result = admit(signed(raw, eu), trust)
    assert rule_of(result) == "wrong-side"
    assert "registered for EU" in result.reason


def test_a_key_cannot_publish_for_another_organisation_of_its_side(trust):
    raw = item(originator="EEAS StratCom")
    eu = Signer.of(TEST_KEYS[("EU", EU_ORG)])
    assert rule_of(admit(signed(raw, eu), trust)) == "wrong-originator"


def test_signed_garbage_is_rejected_for_its_content_not_its_signature(trust):
    raw = b"\xff\xfe not json"
    result = admit(signed(raw), trust)
    assert rule_of(result) == "invalid"
    assert result.reason == "not valid UTF-8 at byte 0"


def test_the_ledger_records_the_trust_rule(trust, ledger_url):
    ledger = Ledger(ledger_url)
    rogue = Signer.of(Ed25519PrivateKey.generate())
    batch = [
        Submitted("ok", item(), tuple(TEST_SIGNERS.headers(item()))),
        Submitted("unsigned", item("stratcom_note")),
        Submitted("rogue", item("misp_event"), tuple(rogue.headers(item("misp_event")))),
    ]
    done = decide_batch(ledger, batch, ReleasePolicy(), NOW, trust)
    assert [(p.record.decision, p.record.rule) for p in done] == [
        ("delivered", "new"),
        ("rejected", "unsigned"),
        ("rejected", "unknown-key"),
    ]
    assert [r.kind for r in ledger.records()][1:] == ["unknown", "unknown"]  # untrusted: not even parsed
    ledger.close()
