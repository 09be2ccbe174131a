"""Keyring and key files on disk: the hub's registered public keys and each publisher's private key.

The keyring is a JSON file the settings point to (`signing.keyring`); it holds public keys only.
`hub keys new` makes a key pair, registers the public half there and writes the private half to a
PEM file readable by its owner alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.core.keys import HubKey, Keyring, RegisteredKey, key_id
from hub.core.signing import Signer
from hub.errors import ConfigError
from hub.files import KIB, MIB, read_limited, read_text
from hub.settings import Settings
from schemas.common import Side

PRIVATE_FILE_MODE = 0o600  # the private key is its owner's alone
KEYRING_LIMIT = 4 * MIB  # ~200 bytes a key: room for 20,000 keys, far beyond two sides' organisations
KEY_FILE_LIMIT = 64 * KIB  # an Ed25519 PEM is 119 bytes; a key file near this size is something else
log = logging.getLogger("hub.keys")


def load_keyring(path: Path) -> Keyring:
    """Read a keyring file; an absent file is an empty keyring; ConfigError if unusable."""
    if not path.exists():
        return Keyring({})
    text = read_text(path, KEYRING_LIMIT, "keyring")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"keyring {path} cannot be read: {str(exc)[:200]}") from exc
    return Keyring.from_document(doc, str(path))


def save_keyring(keyring: Keyring, path: Path) -> None:
    """Write the keyring atomically (a temporary file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(keyring.document(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _slug(org: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", org.lower()).strip("-") or "org"


def write_private_key(private: Ed25519PrivateKey, path: Path) -> None:
    """Write `private` as unencrypted PKCS#8 PEM readable by its owner only."""
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from a PEM file; ConfigError if it is not one."""
    data = read_limited(path, KEY_FILE_LIMIT, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigError(f"signing key {path} cannot be read: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"signing key {path} is not an Ed25519 key")
    return key


def new_key(
    keyring_path: Path, keys_dir: Path, org: str, side: Side, private: Ed25519PrivateKey | None = None
) -> tuple[RegisteredKey, Path]:
    """Make (or take) a key pair for `org` on `side`, register it; returns the key and the private key file."""
    if not org.strip():
        raise ConfigError("--org must name an organisation")
    private = private or Ed25519PrivateKey.generate()
    public = private.public_key()
    key = RegisteredKey(key_id(public), org.strip(), side, public, datetime.now(UTC).isoformat(timespec="seconds"))
    path = keys_dir / f"{side.value.lower()}-{_slug(org)}-{key.key_id}.pem"
    write_private_key(private, path)
    with _locked(keyring_path):
        save_keyring(load_keyring(keyring_path).with_key(key), keyring_path)
    return key, path


def hub_signer(settings: Settings) -> Signer:
    """The hub's own signer (deliveries, checkpoints); made and registered in the keyring on first use.

    Several workers starting at once on one data directory make one key: the file is created
    exclusively, the keyring updated under a lock, and the losers read the winner's file.
    """
    path = settings.hub_key_file
    if not path.exists():
        _make_hub_key(path, settings.keyring)
    signer = signer_from_file(path)
    if signer.key_id not in load_keyring(settings.keyring).hub:
        with _locked(settings.keyring):
            ring = load_keyring(settings.keyring)
            public = signer.private_key.public_key()
            save_keyring(ring.with_hub_key(HubKey(signer.key_id, public, _now())), settings.keyring)
    return signer


def _make_hub_key(path: Path, keyring: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd, tmp = tempfile.mkstemp(prefix=".hub-key.", dir=path.parent)  # mode 0600, as PRIVATE_FILE_MODE
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.link(tmp, path)  # appears whole or not at all, and never replaces a key another worker made
    except FileExistsError:
        return
    finally:
        os.unlink(tmp)
    log.info(
        "made the hub's signing key %s in %s; its public half goes to %s", key_id(private.public_key()), path, keyring
    )


@contextlib.contextmanager
def _locked(keyring: Path) -> Iterator[None]:
    """An exclusive lock beside the keyring file, for read-modify-write of the keyring."""
    keyring.parent.mkdir(parents=True, exist_ok=True)
    with keyring.with_name(keyring.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def signer_from_file(path: Path) -> Signer:
    """A signer from a PEM private key file written by `hub keys new`."""
    return Signer.of(read_private_key(path))


def publisher_signer(settings: Settings) -> Signer | None:
    """The publisher's signer from `signing.key_file`; ConfigError when signing is required and none is set."""
    if settings.signing.key_file is not None:
        return signer_from_file(settings.signing.key_file)
    if settings.signing.required:
        raise ConfigError(
            "no signing key: set HUB_SIGNING__KEY_FILE to a key from `hub keys new --org ORG --side SIDE` "
            "(or HUB_SIGNING__REQUIRED=false for a hub that accepts unsigned submissions)"
        )
    return None
