"""Hub-signed deliveries: the sinks' gate applies what the hub signed for its side, and refuses every other form."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.inbox import InboxGate, Refused
from hub.config.keystore import hub_signer, load_keyring, save_keyring
from hub.core.delivery import delivery_headers, verify_delivery
from hub.core.keys import HubKey
from hub.core.signing import KEY_HEADER, SIG_HEADER, Signer
from hub.settings import load_settings
from schemas.common import Side
from tests.conftest import TEST_SIGNERS

VALUE = json.dumps({"kind": "misp_event", "payload": {"Event": {"uuid": "u", "info": "x"}}}).encode()


@pytest.fixture
def hub(tmp_path):
    """The hub's key, made on first use, and the keyring holding its public half."""
    settings = load_settings(data_dir=tmp_path / "data")
    return hub_signer(settings), settings.keyring


def headers(signer, side="NATO", sid="s-1", value=VALUE):
    return [("hub-sid", sid.encode()), ("hub-decision", b"delivered"), *delivery_headers(signer, side, sid, value)]


def test_a_delivery_the_hub_signed_for_this_side_opens(hub):
    signer, keyring = hub
    gate = InboxGate(keyring, Side.NATO)
    assert gate.open(VALUE, headers(signer)) == json.loads(VALUE)
    assert gate.refused == 0


def other_key():
    return Signer.of(Ed25519PrivateKey.from_private_bytes(b"x" * 32))


@pytest.mark.parametrize(
    ("forge", "problem"),
    [
        (lambda s: (VALUE, [("hub-sid", b"s-1")]), "unsigned"),
        (lambda s: (VALUE, headers(s, side="EU")), "does not match"),  # a genuine EU delivery copied over
        (lambda s: (VALUE + b" ", headers(s)), "does not match"),  # altered after signing
        (lambda s: (VALUE, [(n, b"s-2" if n == "hub-sid" else v) for n, v in headers(s)]), "does not match"),
        (lambda s: (VALUE, headers(other_key())), "is not a hub key"),
        (lambda s: (VALUE, [("hub-sid", b"s-1"), *TEST_SIGNERS.headers(VALUE)]), "is not a hub key"),  # a publisher
        (lambda s: (VALUE, [("hub-sid", b"s-1"), (KEY_HEADER, s.key_id.encode()), (SIG_HEADER, b"!!")]), "base64"),
        (lambda s: (VALUE, [(KEY_HEADER, s.key_id.encode()), (SIG_HEADER, b"AA==")]), "exactly one"),
        (lambda s: (VALUE, headers(s) + headers(s)), "exactly one"),
        (lambda s: (b"not json", headers(s, value=b"not json")), "not a JSON object"),
        (lambda s: (b"[1, 2]", headers(s, value=b"[1, 2]")), "not a JSON object"),
        (lambda s: (None, headers(s, value=b"")), "not a JSON object"),
    ],
)
def test_every_other_message_is_refused_with_a_reason(hub, forge, problem, caplog):
    signer, keyring = hub
    gate = InboxGate(keyring, Side.NATO)
    value, hdrs = forge(signer)
    refused = gate.open(value, hdrs)
    assert isinstance(refused, Refused)
    assert problem in refused.reason
    assert gate.refused == 1
    assert f"refused a message on nato.inbox (submission {refused.submission_id})" in caplog.text


def test_a_hub_key_made_after_the_sink_started_is_picked_up(tmp_path, monkeypatch):
    keyring = tmp_path / "keyring.json"
    gate = InboxGate(keyring, Side.EU)  # no hub key yet: everything is refused
    monkeypatch.setattr("connectors.inbox.RELOAD_EVERY_S", 0.0)
    signer = Signer.of(Ed25519PrivateKey.generate())
    save_keyring(load_keyring(keyring).with_hub_key(HubKey(signer.key_id, signer.private_key.public_key())), keyring)
    assert gate.open(VALUE, headers(signer, side="EU")) == json.loads(VALUE)


def test_verify_delivery_is_one_signature_over_side_id_and_bytes(hub):
    signer, keyring = hub
    keys = load_keyring(keyring).hub
    assert verify_delivery(keys, "NATO", VALUE, headers(signer)) is None
    sig = dict(headers(signer))[SIG_HEADER]
    assert len(base64.b64decode(sig)) == 64
