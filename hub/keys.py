"""The key registry: which Ed25519 public key speaks for which organisation on which side.

The keyring is a JSON file the settings point to (`signing.keyring`); it holds public keys only.
`hub keys new` makes a key pair, registers the public half here and writes the private half to a
PEM file readable by its owner alone. A key id is derived from the public key, so a private key
file alone is enough to sign.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.signing import VerifyKey

from hub.errors import ConfigError
from schemas.common import Side

KEY_ID_HEX = 16  # 64 bits of the public key's SHA-256: unique among a few hundred keys by a wide margin
PRIVATE_FILE_MODE = 0o600  # the private key is its owner's alone


def key_id(public: Ed25519PublicKey) -> str:
    """The key id: hex prefix of the SHA-256 of the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_HEX]


@dataclass(frozen=True)
class RegisteredKey:
    """A public key and the organisation and side it may speak for."""

    key_id: str
    org: str
    side: Side
    public_key: Ed25519PublicKey
    created: str = ""

    @cached_property
    def verify_key(self) -> VerifyKey:
        """The same key for libsodium, which verifies faster and outside the GIL (built once per key)."""
        return VerifyKey(self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    def as_json(self) -> dict[str, str]:
        """The keyring file's entry for this key."""
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {
            "id": self.key_id,
            "org": self.org,
            "side": self.side.value,
            "public_key": base64.b64encode(raw).decode("ascii"),
            "created": self.created,
        }


def _entry(path: Path, n: int, entry: object) -> RegisteredKey:
    if not isinstance(entry, dict):
        raise ConfigError(f"keyring {path}: key {n} is not an object")
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(entry["public_key"], validate=True))
        side = Side(entry["side"])
        org = str(entry["org"]).strip()
    except KeyError as exc:
        raise ConfigError(f"keyring {path}: key {n}: field `{exc.args[0]}` is missing") from exc
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigError(f"keyring {path}: key {n}: {exc}") from exc
    if not org:
        raise ConfigError(f"keyring {path}: key {n}: field `org` is empty")
    kid = key_id(public)
    if entry.get("id", kid) != kid:
        raise ConfigError(f"keyring {path}: key {n}: id {entry['id']!r} does not match its public key ({kid})")
    return RegisteredKey(kid, org, side, public, str(entry.get("created", "")))


@dataclass(frozen=True)
class Keyring:
    """The registered public keys by key id."""

    keys: dict[str, RegisteredKey]

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Read a keyring file; an absent file is an empty keyring; ConfigError if unusable."""
        if not path.exists():
            return cls({})
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"keyring {path} cannot be read: {exc}") from exc
        entries = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise ConfigError(f'keyring {path}: expected {{"keys": [...]}}')
        found = [_entry(path, n, e) for n, e in enumerate(entries, start=1)]
        return cls({k.key_id: k for k in found})

    def save(self, path: Path) -> None:
        """Write the keyring atomically (a temporary file renamed over the old one)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        body = {"keys": [k.as_json() for k in sorted(self.keys.values(), key=lambda k: (k.side, k.org, k.key_id))]}
        tmp.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def with_key(self, key: RegisteredKey) -> Keyring:
        """This keyring with `key` added."""
        return Keyring({**self.keys, key.key_id: key})

    def get(self, kid: str) -> RegisteredKey | None:
        """The key registered under `kid`, if any."""
        return self.keys.get(kid)


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
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
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
    Keyring.load(keyring_path).with_key(key).save(keyring_path)
    return key, path
