"""Scenarios: realistic submissions of all three kinds from both sides, with the decisions they must get.

Used by `hub demo`, the tests and the benchmark. Deterministic for a given seed.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.config.keystore import new_key
from hub.core.decision import Decision
from hub.core.signing import Signer, SignerSet
from schemas.common import Side

BASE_TIME = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
ORGS = {
    "EU": {"assessment": "EU Hybrid Fusion Cell", "stratcom_note": "EEAS StratCom", "misp_event": "CERT-EU"},
    "NATO": {"assessment": "NATO Hybrid Analysis Branch", "stratcom_note": "NATO StratCom COE", "misp_event": "NCIRC"},
}
DOMAINS = ["cyber", "information", "infrastructure", "economy", "political", "diplomacy", "military_defence"]
DISARM = ["T0002", "T0003", "T0004", "T0022", "T0023", "T0049", "T0085", "T0086"]
ATTR = [
    ("ip-dst", "Network activity"),
    ("domain", "Network activity"),
    ("url", "Network activity"),
    ("sha256", "Payload delivery"),
    ("email-src", "Payload delivery"),
]
KINDS = ["assessment", "stratcom_note", "misp_event"]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _attr_value(rng: random.Random, kind: str) -> str:
    if kind == "ip-dst":
        return f"203.0.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    if kind == "domain":
        return f"update-{rng.randrange(10**6)}.example.net"
    if kind == "url":
        return f"https://cdn-{rng.randrange(10**6)}.example.org/payload/{rng.randrange(10**6)}"
    if kind == "sha256":
        return f"{rng.getrandbits(256):064x}"
    return f"hr{rng.randrange(10**6)}@mail.example.com"


def misp_event(rng: random.Random, org: str, attributes: int, when: datetime, tlp: str = "tlp:green") -> dict[str, Any]:
    """A MISP event as MISP exports it, with `attributes` indicators."""
    attrs = []
    for i in range(attributes):
        kind, cat = ATTR[i % len(ATTR)]
        attrs.append(
            {
                "uuid": _uuid(rng),
                "type": kind,
                "category": cat,
                "value": _attr_value(rng, kind),
                "to_ids": True,
                "distribution": "5",
                "timestamp": str(int(when.timestamp())),
                "comment": "",
            }
        )
    return {
        "Event": {
            "uuid": _uuid(rng),
            "info": f"Phishing campaign against public administration #{rng.randrange(10**5)}",
            "date": when.date().isoformat(),
            "timestamp": str(int(when.timestamp())),
            "published": True,
            "analysis": "2",
            "threat_level_id": "2",
            "distribution": "1",
            "Orgc": {"name": org, "uuid": _uuid(rng)},
            "Tag": [{"name": tlp}],
            "Attribute": attrs,
        }
    }


def envelope(
    rng: random.Random,
    kind: str,
    origin: str,
    when: datetime,
    tlp: str = "GREEN",
    releasable_to: list[str] | None = None,
    attributes: int = 5,
) -> dict[str, Any]:
    """One valid submission of `kind` from `origin`."""
    org = ORGS[origin][kind]
    markings: dict[str, Any] = {"tlp": tlp}
    if releasable_to is not None:
        markings["releasable_to"] = releasable_to
    if kind == "misp_event":
        tag = "tlp:" + tlp.lower()
        return {
            "kind": kind,
            "origin": origin,
            "originator": org,
            "area": "cyber",
            "markings": markings,
            "proposals": [24],
            "payload": misp_event(rng, org, attributes, when, tag),
        }
    base = {
        "kind": kind,
        "origin": origin,
        "originator": org,
        "source_id": _uuid(rng),
        "version": when.isoformat(),
        "created": when.isoformat(),
        "modified": when.isoformat(),
        "markings": markings,
    }
    if kind == "assessment":
        domains = rng.sample(DOMAINS, 2)
        return {
            **base,
            "area": "hybrid_threats",
            "proposals": [1, 2],
            "payload": {
                "title": f"Hybrid campaign targeting energy interconnectors, wave {rng.randrange(10**5)}",
                "summary": "Coordinated cyber and information activity against cross-border energy links.",
                "key_judgements": ["Activity is likely state-directed.", "Further disruption is likely within weeks."],
                "domains": domains,
                "confidence": rng.randrange(40, 95),
                "parallel_group": _uuid(rng),
                "references": ["https://www.hybridcoe.fi/"],
            },
        }
    start = when - timedelta(days=7)
    return {
        **base,
        "area": "hybrid_threats",
        "proposals": [3],
        "payload": {
            "title": f"Weekly disinformation trends {rng.randrange(10**5)}",
            "window_start": start.isoformat(),
            "window_end": when.isoformat(),
            "narratives": ["Sanctions hurt Europe more than Russia"],
            "platforms": ["telegram", "x"],
            "languages": ["ru", "de"],
            "target_countries": ["DE", "LT"],
            "disarm_techniques": rng.sample(DISARM, 2),
            "trend": rng.choice(["rising", "stable", "new"]),
            "volume": {"items": rng.randrange(100, 10_000), "accounts": rng.randrange(10, 500), "engagements": 12_000},
        },
    }


def updated(item: dict[str, Any], later: datetime) -> dict[str, Any]:
    """A strictly newer version of `item` with changed content."""
    new: dict[str, Any] = json.loads(json.dumps(item))
    if new["kind"] == "misp_event":
        ev = new["payload"]["Event"]
        ev["timestamp"] = str(int(later.timestamp()))
        ev["info"] += " (updated)"
    else:
        new["version"] = new["modified"] = later.isoformat()
        new["payload"]["title"] += " (revised)"
    return new


MALFORMED: list[bytes] = [
    b'{"kind": "assessment", "origin": "EU"',
    b'{"kind": "podcast", "origin": "EU"}',
    b"\xff\xfe not utf-8",
    b"[1, 2, 3]",
    b'{"kind": "stratcom_note"}',
]


def malformed(rng: random.Random, good: dict[str, Any], i: int) -> bytes:
    """A bad submission of one of several kinds, each with a field-level reason."""
    bad = json.loads(json.dumps(good))
    variant = i % 10
    if variant < len(MALFORMED):
        return MALFORMED[variant]
    if variant == 5:
        bad["markings"]["tlp"] = "PURPLE"
    elif variant == 6:
        bad["proposals"] = [99]
    elif variant == 7:
        bad["origin"] = "UN"
    elif variant == 8:
        bad["area"] = "weather"
    else:
        bad["created"] = "yesterday"
    return json.dumps(bad).encode()


@dataclass
class Scenario:
    """Submissions in publishing order and the decision totals they must produce."""

    items: list[bytes] = field(default_factory=list)
    expected: dict[str, int] = field(default_factory=lambda: {d.value: 0 for d in Decision})

    def add(self, raw: bytes, decision: Decision) -> None:
        """Append one submission and count its expected decision."""
        self.items.append(raw)
        self.expected[decision.value] += 1


def mixed(
    total: int = 1000,
    duplicates: int = 100,
    updates: int = 50,
    red: int = 30,
    malformed_n: int = 20,
    unreleasable: int = 0,
    seed: int = 2016,
    attributes: int = 5,
) -> Scenario:
    """Originals of all kinds from both sides, then duplicates, updates, withheld and malformed items."""
    rng = random.Random(seed)
    originals = total - duplicates - updates - red - malformed_n - unreleasable
    sc = Scenario()
    made: list[dict[str, Any]] = []
    for i in range(originals):
        when = BASE_TIME + timedelta(minutes=i)
        made.append(envelope(rng, KINDS[i % 3], ("EU", "NATO")[(i // 3) % 2], when, attributes=attributes))
        sc.add(json.dumps(made[-1]).encode(), Decision.DELIVERED)
    for i in range(red):
        sc.add(
            json.dumps(envelope(rng, KINDS[i % 3], ("EU", "NATO")[i % 2], BASE_TIME, tlp="RED")).encode(),
            Decision.WITHHELD,
        )
    for i in range(unreleasable):
        origin = ("EU", "NATO")[i % 2]
        item = envelope(rng, KINDS[i % 3], origin, BASE_TIME, releasable_to=[origin])
        sc.add(json.dumps(item).encode(), Decision.WITHHELD)
    for i in range(updates):
        sc.add(json.dumps(updated(made[i], BASE_TIME + timedelta(days=1, minutes=i))).encode(), Decision.UPDATED)
    for i in range(duplicates):
        sc.add(json.dumps(made[(i * 7) % originals]).encode(), Decision.DUPLICATE)
    for i in range(malformed_n):
        sc.add(malformed(rng, made[i % originals], i), Decision.REJECTED)
    return sc


def scenario_keys(seed: str | None = None) -> dict[tuple[str, str], Ed25519PrivateKey]:
    """A private key for every organisation in `ORGS`: random, or derived from `seed` (tests, benchmarks)."""
    keys: dict[tuple[str, str], Ed25519PrivateKey] = {}
    for side, orgs in ORGS.items():
        for org in orgs.values():
            if seed is None:
                keys[(side, org)] = Ed25519PrivateKey.generate()
            else:
                digest = hashlib.sha256(f"{seed}:{side}:{org}".encode()).digest()
                keys[(side, org)] = Ed25519PrivateKey.from_private_bytes(digest)
    return keys


def scenario_signers(keys: dict[tuple[str, str], Ed25519PrivateKey]) -> SignerSet:
    """A signer set that signs each scenario item with its originator's key."""
    return SignerSet.of({(side, org): Signer.of(k) for (side, org), k in keys.items()})


def register_scenario_keys(keyring: Path, keys_dir: Path, seed: str | None = None) -> SignerSet:
    """Register a key per scenario organisation in `keyring` (private keys in `keys_dir`); their signers."""
    keys = scenario_keys(seed)
    for (side, org), private in keys.items():
        new_key(keyring, keys_dir, org, Side(side), private)
    return scenario_signers(keys)
