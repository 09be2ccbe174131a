"""The key registry: keys per organisation and side, private halves kept private."""

from __future__ import annotations

import json
import stat

import pytest

from hub.config.keystore import hub_signer, load_keyring, new_key, read_private_key, signer_from_file
from hub.errors import ConfigError
from hub.settings import load_settings
from schemas.common import Side


def test_a_new_key_is_registered_and_its_private_half_is_owner_only(tmp_path):
    ring_path = tmp_path / "keyring.json"
    key, pem = new_key(ring_path, tmp_path / "keys", "CERT-EU", Side.EU)
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    ring = load_keyring(ring_path)
    assert ring.get(key.key_id) == key
    assert (key.org, key.side) == ("CERT-EU", Side.EU)
    assert signer_from_file(pem).key_id == key.key_id
    assert "PRIVATE" not in ring_path.read_text()


def test_keys_accumulate_in_one_keyring(tmp_path):
    ring_path = tmp_path / "keyring.json"
    a, _ = new_key(ring_path, tmp_path, "CERT-EU", Side.EU)
    b, _ = new_key(ring_path, tmp_path, "NCIRC", Side.NATO)
    assert set(load_keyring(ring_path).keys) == {a.key_id, b.key_id}


def test_an_absent_keyring_is_empty(tmp_path):
    assert load_keyring(tmp_path / "none.json").keys == {}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "cannot be read"),
        ('{"keys": 3}', "expected"),
        ('{"keys": [{"org": "X", "side": "EU"}]}', "`public_key` is missing"),
        ('{"keys": [{"org": "X", "side": "UN", "public_key": "AAAA"}]}', "key 1"),
    ],
)
def test_a_broken_keyring_is_a_config_error(tmp_path, content, problem):
    path = tmp_path / "keyring.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=problem):
        load_keyring(path)


def test_a_key_id_that_does_not_match_its_public_key_is_refused(tmp_path):
    path = tmp_path / "keyring.json"
    new_key(path, tmp_path, "CERT-EU", Side.EU)
    doc = json.loads(path.read_text())
    doc["keys"][0]["id"] = "0" * 16
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="does not match its public key"):
        load_keyring(path)


def test_a_file_that_is_not_an_ed25519_key_is_refused(tmp_path):
    path = tmp_path / "k.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        read_private_key(path)


def test_the_hub_key_is_made_once_and_registered_apart_from_publishers(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    first = hub_signer(settings)
    again = hub_signer(settings)
    assert first.key_id == again.key_id
    ring = load_keyring(settings.keyring)
    assert set(ring.hub) == {first.key_id}
    assert ring.keys == {}  # the hub's key cannot sign submissions: it is no publisher's
    assert stat.S_IMODE(settings.hub_key_file.stat().st_mode) == 0o600
    raw = json.loads(settings.keyring.read_text())
    assert [h["id"] for h in raw["hub"]] == [first.key_id]


def test_a_hub_key_entry_that_does_not_match_its_id_is_refused(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    hub_signer(settings)
    doc = json.loads(settings.keyring.read_text())
    doc["hub"][0]["id"] = "0" * 16
    settings.keyring.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="hub key 1: id '0000000000000000' does not match"):
        load_keyring(settings.keyring)
