"""Generated bad submissions, by category, each one something the hub must reject with a reason."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.core.signing import KEY_HEADER, SIG_HEADER, Signer
from hub.demo.scenario import BASE_TIME, KINDS, ORGS, envelope
from tests.conftest import TEST_KEYS, TEST_SIGNERS

TEN_MB = 10 * 1024 * 1024
INJECTIONS = [
    "EU'; DROP TABLE ledger; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}",
    "../../../../etc/passwd",
    "$(rm -rf /)",
    "\u202eUTEN",
    "NATO\x00",
]
REQUIRED = {
    "assessment": ["kind", "origin", "originator", "source_id", "version", "created", "modified", "area", "payload"],
    "stratcom_note": ["kind", "origin", "originator", "source_id", "version", "created", "modified", "area", "payload"],
    "misp_event": ["kind", "origin", "originator", "area", "payload"],
}
WRONG_TYPES: list[tuple[str, Any]] = [
    ("origin", 5),
    ("origin", None),
    ("originator", ["CERT-EU"]),
    ("source_id", 12345),
    ("version", [2026]),
    ("created", True),
    ("markings", []),
    ("markings", "TLP:GREEN"),
    ("tags", "tlp:green"),
    ("tags", [1, 2]),
    ("area", {"x": 1}),
    ("proposals", "1,2"),
    ("proposals", [1.5]),
    ("payload", None),
    ("payload", "text"),
    ("kind", 3),
]
ROGUE = Signer.of(Ed25519PrivateKey.from_private_bytes(b"f" * 32))


def _good(rng: random.Random) -> dict[str, Any]:
    return envelope(rng, rng.choice(KINDS), rng.choice(["EU", "NATO"]), BASE_TIME, attributes=2)


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


def wrong_type(rng: random.Random) -> bytes:
    doc = _good(rng)
    lifted = {"source_id", "version"} if doc["kind"] == "misp_event" else set()  # taken from the event itself
    name, value = rng.choice([w for w in WRONG_TYPES if w[0] not in lifted])
    doc[name] = value
    return _dump(doc)


def missing_field(rng: random.Random) -> bytes:
    doc = _good(rng)
    del doc[rng.choice(REQUIRED[doc["kind"]])]
    return _dump(doc)


def unknown_kind(rng: random.Random) -> bytes:
    doc = _good(rng)
    doc["kind"] = rng.choice(["podcast", "", "ASSESSMENT", "misp-event", "stix_bundle", *INJECTIONS])
    return _dump(doc)


def nested(rng: random.Random) -> bytes:
    depth = rng.choice([300, 2000, 50_000])
    doc = _good(rng)
    doc[rng.choice(["payload", "markings", "tags"])] = "__NEST__"
    return _dump(doc).replace(b'"__NEST__"', b"[" * depth + b"]" * depth)


def invalid_utf8(rng: random.Random) -> bytes:
    doc = _dump(_good(rng))
    at = rng.randrange(len(doc))
    return doc[:at] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]) + doc[at:]


def duplicate_key(rng: random.Random) -> bytes:
    doc = _good(rng)
    name = rng.choice(["origin", "kind", "markings", "originator"])
    other = {"origin": '"NATO"', "kind": '"assessment"', "markings": '{"tlp": "RED"}', "originator": '"X"'}[name]
    raw = _dump(doc)
    return raw[:-1] + f', "{name}": {other}}}'.encode()


def not_a_number(rng: random.Random) -> bytes:
    doc = _good(rng)
    value = rng.choice([float("nan"), float("inf"), float("-inf")])
    if doc["kind"] == "misp_event":
        doc["payload"]["Event"]["Attribute"][0]["value"] = value
    elif doc["kind"] == "assessment":
        doc["payload"]["confidence"] = value
    else:
        doc["payload"]["volume"]["items"] = value
    return _dump(doc)


def huge_number(rng: random.Random) -> bytes:
    doc = _good(rng)
    value = rng.choice(["1" + "0" * 30, "-" + "9" * 20, str(2**63), str(2**54), "9" * 5000])  # written as JSON text
    target = rng.choice(["proposals", "payload", "markings"])
    if target == "proposals":
        doc["proposals"] = ["__BIG__"]
    elif target == "payload" and doc["kind"] == "misp_event":
        doc["payload"]["Event"]["timestamp"] = "__BIG__"
    elif target == "payload":
        doc["payload"]["title"] = "__BIG__"
    else:
        doc["markings"]["tlp"] = "__BIG__"
    return _dump(doc).replace(b'"__BIG__"', value.encode())


def injection(rng: random.Random) -> bytes:
    doc = _good(rng)
    lifted = ["source_id", "version"] if doc["kind"] != "misp_event" else []  # a MISP event's own are used
    name = rng.choice(["origin", "area", "kind", "markings.tlp", "proposals", *lifted])
    value = rng.choice(INJECTIONS)
    if name == "markings.tlp":
        doc["markings"]["tlp"] = value
    elif name == "proposals":
        doc["proposals"] = [value]
    else:
        doc[name] = value
    return _dump(doc)


def huge_string(rng: random.Random) -> bytes:
    doc = _good(rng)
    # hex of random bytes: as incompressible as real text (a run of one letter is refused unread as a bomb)
    doc[rng.choice(["originator", "area", "version"])] = rng.randbytes(TEN_MB // 2).hex()
    return _dump(doc)


def garbage(rng: random.Random) -> bytes:
    return rng.choice(
        [
            bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 300))),
            b"",
            b"null",
            b"[]",
            b'"just a string"',
            b"{}",
            b"{" * 10,
            b'{"kind": "assessment"',
        ]
    )


CATEGORIES: dict[str, Callable[[random.Random], bytes]] = {
    "wrong-type": wrong_type,
    "missing-field": missing_field,
    "unknown-kind": unknown_kind,
    "nested": nested,
    "invalid-utf8": invalid_utf8,
    "duplicate-key": duplicate_key,
    "nan": not_a_number,
    "huge-number": huge_number,
    "injection": injection,
    "garbage": garbage,
}
UNTRUSTED = ["unsigned", "rogue-key", "wrong-side", "altered"]


def untrusted(rng: random.Random, how: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A valid item with headers the hub must refuse."""
    doc = _good(rng)
    raw = _dump(doc)
    if how == "unsigned":
        return raw, []
    if how == "rogue-key":
        return raw, ROGUE.headers(raw)
    if how == "wrong-side":
        other = "NATO" if doc["origin"] == "EU" else "EU"
        return raw, Signer.of(TEST_KEYS[(other, ORGS[other][doc["kind"]])]).headers(raw)
    headers = TEST_SIGNERS.headers(raw)
    doc["markings"] = {"tlp": "CLEAR"}
    doc["proposals"] = [74]
    return _dump(doc), headers


class HeaderTable:
    """A signer for the fuzz run: fixed headers for listed items, the test keys for the rest."""

    def __init__(self) -> None:
        self.fixed: dict[bytes, list[tuple[str, bytes]]] = {}

    def headers(self, raw: bytes) -> list[tuple[str, bytes]]:
        """The fixed headers of `raw`, else its originator's signature."""
        if raw in self.fixed:
            return self.fixed[raw]
        return TEST_SIGNERS.headers(raw)


__all__ = ["CATEGORIES", "KEY_HEADER", "SIG_HEADER", "UNTRUSTED", "HeaderTable", "huge_string", "untrusted"]
