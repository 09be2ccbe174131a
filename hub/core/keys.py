"""The key registry: which Ed25519 public key speaks for which organisation on which side.

A keyring holds public keys only. A key id is derived from the public key, so a private key alone
is enough to sign. Reading and writing keyring and key files is `hub.config.keystore`'s.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.signing import VerifyKey

from hub.errors import ConfigError
from schemas.common import Side

KEY_ID_HEX = 16  # 64 bits of the public key's SHA-256: unique among a few hundred keys by a wide margin


def org_key(name: str) -> str:
    """An organisation's name as every trust check compares it: case and surrounding spaces aside."""
    return name.strip().casefold()


def key_id(public: Ed25519PublicKey) -> str:
    """The key id: hex prefix of the SHA-256 of the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_HEX]


class _VerifiesSignatures:
    """What every public key here offers: its raw bytes, and the same key for libsodium."""

    public_key: Ed25519PublicKey

    @property
    def raw(self) -> bytes:
        """The 32 raw bytes of the public key."""
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @cached_property
    def verify_key(self) -> VerifyKey:
        """The same key for libsodium, which verifies faster and outside the GIL (built once per key)."""
        return VerifyKey(self.raw)


@dataclass(frozen=True)
class RegisteredKey(_VerifiesSignatures):
    """A public key and the organisation and side it may speak for."""

    key_id: str
    org: str
    side: Side
    public_key: Ed25519PublicKey
    created: str = ""

    def as_json(self) -> dict[str, str]:
        """The keyring file's entry for this key."""
        public = base64.b64encode(self.raw).decode("ascii")
        return {
            "id": self.key_id,
            "org": self.org,
            "side": self.side.value,
            "public_key": public,
            "created": self.created,
        }


@dataclass(frozen=True)
class HubKey(_VerifiesSignatures):
    """A public key of the hub itself, which signs what it delivers and its ledger checkpoints."""

    key_id: str
    public_key: Ed25519PublicKey
    created: str = ""

    def as_json(self) -> dict[str, str]:
        """The keyring file's entry for this key."""
        return {"id": self.key_id, "public_key": base64.b64encode(self.raw).decode("ascii"), "created": self.created}


def _public(path: str, what: str, entry: dict[str, object]) -> tuple[str, Ed25519PublicKey]:
    try:
        raw = base64.b64decode(str(entry["public_key"]), validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
    except KeyError as exc:
        raise ConfigError(f"keyring {path}: {what}: field `{exc.args[0]}` is missing") from exc
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigError(f"keyring {path}: {what}: {exc}") from exc
    kid = key_id(public)
    if entry.get("id", kid) != kid:
        raise ConfigError(f"keyring {path}: {what}: id {entry['id']!r} does not match its public key ({kid})")
    return kid, public


def _hub_entry(path: str, n: int, entry: object) -> HubKey:
    if not isinstance(entry, dict):
        raise ConfigError(f"keyring {path}: hub key {n} is not an object")
    kid, public = _public(path, f"hub key {n}", entry)
    return HubKey(kid, public, str(entry.get("created", "")))


def _entry(path: str, n: int, entry: object) -> RegisteredKey:
    if not isinstance(entry, dict):
        raise ConfigError(f"keyring {path}: key {n} is not an object")
    kid, public = _public(path, f"key {n}", entry)
    try:
        side = Side(entry["side"])
        org = str(entry["org"]).strip()
    except KeyError as exc:
        raise ConfigError(f"keyring {path}: key {n}: field `{exc.args[0]}` is missing") from exc
    except ValueError as exc:
        raise ConfigError(f"keyring {path}: key {n}: {exc}") from exc
    if not org:
        raise ConfigError(f"keyring {path}: key {n}: field `org` is empty")
    return RegisteredKey(kid, org, side, public, str(entry.get("created", "")))


def _who(key: RegisteredKey) -> str:
    return f"{key.org} ({key.side.value})"


def _one_identity_per_key(source: str, keys: list[RegisteredKey], hub: list[HubKey]) -> None:
    """ConfigError when one public key is listed twice: under two organisations or sides, or as a hub key too.

    The key id is derived from the public key, so two entries with one id are one key; which
    identity it speaks for must not depend on which entry is read last.
    """
    first: dict[str, tuple[int, RegisteredKey]] = {}
    for n, key in enumerate(keys, start=1):
        if key.key_id in first:
            m, other = first[key.key_id]
            same = "again" if (other.org, other.side) == (key.org, key.side) else f"for {_who(key)}"
            raise ConfigError(
                f"keyring {source}: key {n}: public key {key.key_id} is key {m}'s ({_who(other)}), listed {same}; "
                "one key speaks for one identity"
            )
        first[key.key_id] = (n, key)
    seen_hub: set[str] = set()
    for n, hub_key in enumerate(hub, start=1):
        if hub_key.key_id in first:
            m, other = first[hub_key.key_id]
            raise ConfigError(
                f"keyring {source}: hub key {n}: public key {hub_key.key_id} is also key {m} ({_who(other)}); "
                "the hub's key cannot be a publisher's"
            )
        if hub_key.key_id in seen_hub:
            raise ConfigError(f"keyring {source}: hub key {n}: public key {hub_key.key_id} is listed twice")
        seen_hub.add(hub_key.key_id)


@dataclass(frozen=True)
class Keyring:
    """The registered public keys by key id."""

    keys: dict[str, RegisteredKey]
    hub: dict[str, HubKey] = field(default_factory=dict)  # the hub's own keys (several while one is rotated)

    @classmethod
    def from_document(cls, doc: object, source: str) -> Keyring:
        """The keyring in a parsed keyring document (`{"keys": [...]}`); ConfigError naming `source` if unusable."""
        entries = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise ConfigError(f'keyring {source}: expected {{"keys": [...]}}')
        found = [_entry(source, n, e) for n, e in enumerate(entries, start=1)]
        hub_entries = doc.get("hub", []) if isinstance(doc, dict) else []
        if not isinstance(hub_entries, list):
            raise ConfigError(f'keyring {source}: `hub` must be a list of the hub\'s keys: {{"hub": [...]}}')
        hub = [_hub_entry(source, n, e) for n, e in enumerate(hub_entries, start=1)]
        _one_identity_per_key(source, found, hub)
        return cls({k.key_id: k for k in found}, {k.key_id: k for k in hub})

    def document(self) -> dict[str, list[dict[str, str]]]:
        """The keyring as its file holds it, keys in a stable order."""
        keys = [k.as_json() for k in sorted(self.keys.values(), key=lambda k: (k.side, k.org, k.key_id))]
        return {"keys": keys, "hub": [k.as_json() for k in sorted(self.hub.values(), key=lambda k: k.key_id)]}

    def with_key(self, key: RegisteredKey) -> Keyring:
        """This keyring with `key` added; ConfigError if the key already speaks for another identity."""
        known = self.keys.get(key.key_id)
        if known is not None and (known.org, known.side) != (key.org, key.side):
            raise ConfigError(f"key {key.key_id} is already registered for {_who(known)}; one key, one identity")
        if key.key_id in self.hub:
            raise ConfigError(f"key {key.key_id} is the hub's own key; a publisher cannot share it")
        return Keyring({**self.keys, key.key_id: key}, self.hub)

    def with_hub_key(self, key: HubKey) -> Keyring:
        """This keyring with the hub key `key` added; ConfigError if a publisher holds the same key."""
        if key.key_id in self.keys:
            owner = _who(self.keys[key.key_id])
            raise ConfigError(f"key {key.key_id} is registered for {owner}; it cannot be the hub's")
        return Keyring(self.keys, {**self.hub, key.key_id: key})

    def get(self, kid: str) -> RegisteredKey | None:
        """The key registered under `kid`, if any."""
        return self.keys.get(kid)
