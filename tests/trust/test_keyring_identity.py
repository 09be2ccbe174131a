"""One public key, one identity: the keyring refuses a key listed for two organisations, two sides, or as the hub's."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.config.keystore import hub_signer, load_keyring, new_key, write_private_key
from hub.core.keys import HubKey, Keyring, RegisteredKey, key_id
from hub.errors import ConfigError
from hub.settings import load_settings
from schemas.common import Side

PRIVATE = Ed25519PrivateKey.from_private_bytes(b"k" * 32)
OTHER = Ed25519PrivateKey.from_private_bytes(b"o" * 32)


def entry(private: Ed25519PrivateKey, org: str | None = None, side: str | None = None) -> dict[str, str]:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    found = {"public_key": base64.b64encode(raw).decode()}
    return found | ({"org": org, "side": side} if org else {})


def ring(tmp_path, keys, hub=()):
    path = tmp_path / "keyring.json"
    path.write_text(json.dumps({"keys": list(keys), "hub": list(hub)}))
    return path


@pytest.mark.parametrize(
    ("first", "second", "problem"),
    [
        (("CERT-EU", "EU"), ("ENISA", "EU"), "listed for ENISA \\(EU\\)"),
        (("CERT-EU", "EU"), ("CERT-EU", "NATO"), "listed for CERT-EU \\(NATO\\)"),
        (("CERT-EU", "EU"), ("NCIRC", "NATO"), "listed for NCIRC \\(NATO\\)"),
        (("CERT-EU", "EU"), ("CERT-EU", "EU"), "listed again"),
    ],
)
def test_one_key_under_two_entries_is_refused(tmp_path, first, second, problem):
    path = ring(tmp_path, [entry(PRIVATE, *first), entry(OTHER, "NCIRC", "NATO"), entry(PRIVATE, *second)])
    with pytest.raises(ConfigError, match=f"key 3: public key {key_id(PRIVATE.public_key())} is key 1's .*{problem}"):
        load_keyring(path)


def test_a_publisher_key_equal_to_a_hub_key_is_refused(tmp_path):
    path = ring(tmp_path, [entry(PRIVATE, "CERT-EU", "EU")], [entry(PRIVATE)])
    with pytest.raises(ConfigError, match="hub key 1: .* is also key 1 \\(CERT-EU \\(EU\\)\\)"):
        load_keyring(path)


def test_a_hub_key_listed_twice_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="hub key 2: .* listed twice"):
        load_keyring(ring(tmp_path, [], [entry(PRIVATE), entry(PRIVATE)]))


def test_distinct_keys_load(tmp_path):
    loaded = load_keyring(ring(tmp_path, [entry(PRIVATE, "CERT-EU", "EU"), entry(OTHER, "NCIRC", "NATO")]))
    assert {(k.org, k.side) for k in loaded.keys.values()} == {("CERT-EU", Side.EU), ("NCIRC", Side.NATO)}


def test_registering_a_key_again_for_another_identity_is_refused(tmp_path):
    path = tmp_path / "keyring.json"
    new_key(path, tmp_path / "keys", "CERT-EU", Side.EU, private=PRIVATE)
    new_key(path, tmp_path / "keys", "CERT-EU", Side.EU, private=PRIVATE)  # the same identity again: no change
    with pytest.raises(ConfigError, match="already registered for CERT-EU \\(EU\\)"):
        new_key(path, tmp_path / "keys", "NCIRC", Side.NATO, private=PRIVATE)
    assert [(k.org, k.side) for k in load_keyring(path).keys.values()] == [("CERT-EU", Side.EU)]


def test_the_hub_key_cannot_be_a_publisher_key(tmp_path):
    settings = load_settings(data_dir=tmp_path)
    write_private_key(PRIVATE, settings.hub_key_file)
    new_key(settings.keyring, tmp_path / "keys", "CERT-EU", Side.EU, private=PRIVATE)
    with pytest.raises(ConfigError, match="registered for CERT-EU \\(EU\\); it cannot be the hub's"):
        hub_signer(settings)
    public = PRIVATE.public_key()
    hub_ring = Keyring({}, {key_id(public): HubKey(key_id(public), public)})
    with pytest.raises(ConfigError, match="is the hub's own key"):
        hub_ring.with_key(RegisteredKey(key_id(public), "CERT-EU", Side.EU, public))
