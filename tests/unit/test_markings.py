"""Markings normalisation: MISP tags, TLP names, STIX ids; the most restrictive wins."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.markings import Markings, Pap, Tlp, parse_tlp, read_tags


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("tlp:white", Tlp.CLEAR),
        ("TLP:CLEAR", Tlp.CLEAR),
        ("tlp:amber+strict", Tlp.AMBER_STRICT),
        ("green", Tlp.GREEN),
        ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp.RED),  # STIX TLP 1.0 red
        ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp.AMBER_STRICT),  # TLP 2.0
        ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp.CLEAR),  # TLP 1.0 white
    ],
)
def test_tlp_inputs_normalise(given, expected):
    assert parse_tlp(given) is expected


def test_unknown_tlp_names_the_allowed_values():
    with pytest.raises(ValidationError, match="'PURPLE' is not one of CLEAR, GREEN, AMBER, AMBER\\+STRICT, RED"):
        Markings(tlp="PURPLE")


def test_most_restrictive_tlp_wins_in_a_list():
    assert Markings(tlp=["tlp:green", "AMBER", "tlp:white"]).tlp is Tlp.AMBER


def test_tags_fold_into_markings_strictest_wins():
    m = Markings(tlp="GREEN").folded(read_tags(["tlp:red", "PAP:WHITE", 'osint:source-type="blog-post"']))
    assert (m.tlp, m.pap) == (Tlp.RED, Pap.CLEAR)


def test_tags_never_loosen_markings():
    m = Markings(tlp="AMBER", pap="RED").folded(read_tags(["tlp:clear", "PAP:GREEN"]))
    assert (m.tlp, m.pap) == (Tlp.AMBER, Pap.RED)
