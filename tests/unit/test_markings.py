"""Markings normalisation: MISP tags, TLP names, STIX ids; the most restrictive wins."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hub.core.policy import ReleasePolicy
from schemas.common import Side
from schemas.markings import Markings, Pap, Tlp, classification_key, is_local, parse_tlp, read_tags
from tests.trust.spellings import spelled


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


# One reading of every spelling (issue 10): the generated forms are the attacker's, not the reader's.

NATO = ReleasePolicy().destination(Side.NATO)


def rule_for(tags) -> str | None:
    withhold = NATO.marking_withhold(read_tags(tags), named=False)
    return withhold.rule if withhold else None


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(spelled())
def test_every_spelling_of_a_marking_reads_as_what_it_means(tag):
    assert rule_for([tag.tag]) == tag.rule, tag


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.lists(spelled(), min_size=1, max_size=6))
def test_the_strictest_marking_of_a_set_wins_whatever_the_order(tags):
    rules = [rule_for([t.tag]) for t in tags]
    fired = rule_for([t.tag for t in tags])
    assert (fired is None) == all(r is None for r in rules)
    assert fired is None or fired in rules
    assert rule_for([t.tag for t in reversed(tags)]) == fired


@pytest.mark.parametrize(
    ("tag", "tlp", "pap"),
    [
        ({"name": "tlp:red", "local": "0"}, Tlp.RED, None),
        ({"name": "tlp:red", "local": "false"}, Tlp.RED, None),
        ({"name": "tlp:red", "local": 1}, Tlp.RED, None),  # a local tag still says how its owner marked the item
        ("tlp:red", Tlp.RED, None),
        (" tlp:red", Tlp.RED, None),
        (" PAP:RED", None, Pap.RED),
        ('tlp:"red"', Tlp.RED, None),
        ("tlp: red", Tlp.RED, None),
        ("TLP:AMBER+STRICT", Tlp.AMBER_STRICT, None),
        ("tlp:white", Tlp.CLEAR, None),
        ("PAP:WHITE", None, Pap.CLEAR),
        ('ais-marking:TLPMarking="AMBER"', Tlp.AMBER, None),
        ({"Tag": {"name": "tlp:red"}, "local": 0}, Tlp.RED, None),
        ({"name": "osint", "tag_name": "tlp:red"}, Tlp.RED, None),
        ("MARKING-DEFINITION--E828B379-4E03-4974-9AC4-E53A884C97C1", Tlp.RED, None),
        ("\uff54\uff4c\uff50:\uff52\uff45\uff44", Tlp.RED, None),  # full-width letters: NFKC reads them as tlp:red
        ("t\u200blp:red", Tlp.RED, None),  # a zero-width space inside the namespace
    ],
)
def test_the_issue_spellings_read_as_their_level(tag, tlp, pap):
    reading = read_tags([tag])
    assert (reading.tlp, reading.pap) == (tlp, pap)


@pytest.mark.parametrize(
    "tag",
    ["tlp:purple", "tlp:unclear", "TLP", "tlp:red:extra", "PAP:BLACK", "marking-definition--1234", [["tlp:red"]], 5,
     {"id": "3"}, {"name": 7}, "tl\u0440:green", "\u0442lp:clear", "p\u03b1p:green", "t\u0336lp:green",
     'n\u0430to:classification="NU"'],
)  # fmt: skip
def test_what_looks_like_a_marking_but_cannot_be_read_withholds(tag):
    assert read_tags([tag]).unreadable
    assert rule_for([tag]) == "unreadable-marking"


@pytest.mark.parametrize(
    "tag", ["tlp:ex:chr", "paper", 'nato-uas-classification:CLASS-I="small"', "osint", 'estimative-language:x="y"']
)
def test_tags_that_are_no_marking_read_as_nothing(tag):
    assert not read_tags([tag])


def test_every_machine_tag_of_the_classification_taxonomies_is_a_classification():
    from pytaxonomies import Taxonomies

    taxonomies = Taxonomies()
    for name in ("nato", "euci", "fr-classif", "de-vs", "dni-ism"):
        tags = taxonomies.get(name).machinetags()
        assert tags, name
        for tag in tags:
            assert read_tags([tag]).classifications == (classification_key(tag),), tag
    assert read_tags(['acs-marking:classification="U"']).classifications


def test_a_policy_accepts_classifications_in_any_spelling():
    from hub.config.policy_file import parse_policy

    policy = parse_policy("[destination.NATO]\nallowed_classifications = ['nato:classification=\"NU\"']\n", "p")
    dest = policy.destination(Side.NATO)
    assert dest.marking_withhold(read_tags([' NATO:Classification = "nu" ']), named=False) is None
    assert dest.marking_withhold(read_tags(['nato:classification="NR"']), named=False).rule == "classified"


@pytest.mark.parametrize(
    ("local", "expected"),
    [(None, False), ("0", False), ("false", False), ("False", False), (0, False), (False, False), ("", False),
     (" no ", False), ("1", True), (1, True), (True, True), ("true", True), (" 1 ", True), ("yes", True),
     ([1], True), ({"a": 1}, True), (0.5, True)],
)  # fmt: skip
def test_local_in_every_spelling(local, expected):
    assert is_local({"name": "x", "local": local}) is expected
    assert is_local({"Tag": {"name": "x"}, "local": local}) is expected
