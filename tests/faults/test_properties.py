"""Properties of the pure core over generated items: nothing TLP:RED, unreleasable, unsigned or forged crosses.

The release oracle here is written independently of `hub.core.policy`: it states what DESIGN invariant 3
calls provably releasable, and every generated item must cross exactly when it says so.
"""

from __future__ import annotations

import base64
import json
import os
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.config.keystore import load_keyring
from hub.core.decide import Submitted, admit, decide_one
from hub.core.keys import Keyring
from hub.core.policy import ReleasePolicy
from hub.core.signing import KEY_HEADER, SIG_HEADER, Signer, Trust
from hub.core.validate import Invalid, Valid, validate
from hub.demo.scenario import BASE_TIME, ORGS, envelope
from tests.conftest import TEST_KEYS, write_test_keyring

ITEMS = int(os.environ.get("HUB_PROPERTY_ITEMS", "100000"))  # the figure for property-generated items
BATCH = 100  # items per hypothesis example: keeps hypothesis' per-example overhead small
POLICY = ReleasePolicy()
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ROGUE = Signer.of(Ed25519PrivateKey.from_private_bytes(b"r" * 32))
NAMES = {"EU": ["EU", "CERT-EU", "eeas"], "NATO": ["NATO", "NCIRC", "nato hab"]}
TEMPLATES = {
    (kind, origin): envelope(random.Random(f"{kind}{origin}"), kind, origin, BASE_TIME)
    for kind in ("assessment", "stratcom_note", "misp_event")
    for origin in ("EU", "NATO")
}

SIGNERS = {(side, kind): Signer.of(TEST_KEYS[(side, org)]) for side, orgs in ORGS.items() for kind, org in orgs.items()}

# Each generated item picks one option per axis (small integers are cheap for hypothesis to draw,
# and shrink toward the first option of every axis).
AXES: dict[str, list[Any]] = {
    "template": sorted(TEMPLATES),
    "tlp": [None, "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED", "tlp:white", "tlp:red"],
    "pap": [None, "CLEAR", "GREEN", "AMBER", "RED"],
    "releasable_to": [None, None, None, ["EU"], ["NATO"], ["EU", "NATO"], ["CERT-EU"], ["NCIRC"], ["UN"], []],
    "originator_control": [False, False, False, True],
    "classification": [None, None, None, None, "NATO RESTRICTED", "SECRET"],
    "distribution": ["1", "2", "3", "4", "0"],
    "sharing_group": [[], ["CERT-EU"], ["NCIRC"], ["ENISA", "nato"]],
    "event_tag": [None, "tlp:green", "tlp:red", "tlp:amber", "PAP:RED"],
    "signing": ["good"] * 6 + ["unsigned", "altered", "rogue", "wrong-side", "bad-sig"],
}
one_item = st.tuples(*(st.integers(0, len(options) - 1) for options in AXES.values()))


def decode(digits: tuple[int, ...]) -> dict[str, Any]:
    """The item with these option numbers, one per axis."""
    return {name: options[d] for (name, options), d in zip(AXES.items(), digits, strict=True)}


def build(digits: tuple[int, ...]) -> tuple[bytes, tuple[tuple[str, bytes], ...], str]:
    """The raw item, its headers, and how it was signed."""
    spec = decode(digits)
    kind, origin = spec["template"]
    names = ("tlp", "pap", "releasable_to", "originator_control", "classification")
    marks = {n: spec[n] for n in names if spec[n] is not None}
    doc = {**TEMPLATES[(kind, origin)], "markings": marks}  # shallow: only the copied parts change
    if kind == "misp_event":
        ev = {**doc["payload"]["Event"], "distribution": spec["distribution"]}
        ev["Tag"] = [{"name": spec["event_tag"]}] if spec["event_tag"] else []
        if spec["distribution"] == "4":
            members = [{"Organisation": {"name": o}} for o in spec["sharing_group"]]
            ev["SharingGroup"] = {"name": "sg", "SharingGroupOrg": members}
        doc["payload"] = {"Event": ev}
    raw = json.dumps(doc).encode()
    how = spec["signing"]
    if how == "unsigned":
        return raw, (), how
    if how == "rogue":
        return raw, tuple(ROGUE.headers(raw)), how
    if how == "wrong-side":
        return raw, tuple(SIGNERS[("NATO" if origin == "EU" else "EU", kind)].headers(raw)), how
    headers = tuple(SIGNERS[(origin, kind)].headers(raw))
    if how == "altered":  # the templates' areas are hybrid_threats and cyber: this always alters
        return json.dumps({**doc, "area": "exercises"}).encode(), headers, how
    if how == "bad-sig":
        return raw, ((KEY_HEADER, dict(headers)[KEY_HEADER]), (SIG_HEADER, base64.b64encode(b"\0" * 64))), how
    return raw, headers, how


def provably_releasable(checked: Valid) -> bool:
    """DESIGN invariant 3, stated on the validated envelope (MISP tags folded into its markings)."""
    env = checked.envelope
    m = env.markings
    dest = env.origin.counterpart.value
    named = bool({n.lower() for n in (m.releasable_to or ())} & {n.lower() for n in [dest, *NAMES[dest]]})
    if m.classification or m.tlp is None or m.tlp.value == "RED" or (m.pap and m.pap.value == "RED"):
        return False
    if m.tlp.value == "AMBER+STRICT" and not named:
        return False
    if (m.releasable_to is not None or m.originator_control) and not named:
        return False
    if env.kind == "misp_event":
        event = env.payload.Event  # type: ignore[union-attr]
        dist = int(event.get("distribution", 0))
        orgs = {o["Organisation"]["name"].lower() for o in (event.get("SharingGroup") or {}).get("SharingGroupOrg", [])}
        return dist in (1, 2, 3) or (dist == 4 and bool(orgs & {n.lower() for n in [dest, *NAMES[dest]]}))
    return True


@pytest.mark.slow
def test_nothing_red_unreleasable_unsigned_or_forged_crosses(tmp_path):
    trust = Trust(load_keyring(write_test_keyring(tmp_path / "keyring.json")), required=True)
    seen = {"items": 0, "crossed": 0, "withheld": 0, "rejected": 0}

    @settings(
        max_examples=ITEMS // BATCH,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(st.lists(one_item, min_size=BATCH, max_size=BATCH))
    def batch(items: list[tuple[int, ...]]) -> None:
        for n, digits in enumerate(items):
            raw, headers, how = build(digits)
            checked = admit(Submitted(f"s{n}", raw, headers), trust)
            outcome = decide_one(f"s{n}", checked, None, None, POLICY, NOW)
            seen["items"] += 1
            seen[{"delivered": "crossed", "withheld": "withheld", "rejected": "rejected"}[outcome.decision.value]] += 1
            if how != "good":
                assert isinstance(checked, Invalid), (how, raw[:200])
                assert not outcome.crosses
                continue
            assert isinstance(checked, Valid), checked  # every generated good item is valid and signed
            assert outcome.crosses == provably_releasable(checked), (outcome.rule, raw[:300])
            if outcome.crosses:
                assert checked.envelope.markings.tlp.value != "RED"

    batch()
    assert seen["items"] >= ITEMS
    assert min(seen["crossed"], seen["withheld"], seen["rejected"]) > ITEMS // 20, seen


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.binary(max_size=2000), st.lists(st.tuples(st.sampled_from([KEY_HEADER, SIG_HEADER, "x"]), st.binary())))
def test_the_way_in_never_raises_on_arbitrary_bytes(raw, headers):
    trust = Trust(Keyring({}), required=True)
    result = admit(Submitted("s", raw, tuple(headers)), trust)
    assert isinstance(result, Invalid)
    assert result.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(TEMPLATES)), st.sampled_from(["markings", "payload", "tags", "version"]), json_values)
def test_validation_never_raises_on_any_json_in_any_field(template, field, value):
    doc = json.loads(json.dumps(TEMPLATES[template]))
    doc[field] = value
    raw = json.dumps(doc, allow_nan=True).encode()
    result = validate(raw)
    if isinstance(result, Invalid):
        assert result.reason
    else:
        assert decide_one("s", result, None, None, POLICY, NOW).decision.value in {"delivered", "withheld"}
