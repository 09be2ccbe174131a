"""Every form an attacker (or a careless tool) can write a marking in, as hypothesis strategies.

Written from MISP's and STIX's documents, not from the hub's reader: TLP and PAP tags in any case,
with whitespace around them and around the colon, with the value quoted; `tlp:white` for CLEAR; the
STIX TLP 1.0 and 2.0 marking-definition ids in any case; the AIS form; the classification
taxonomies' machine tags; and each tag as a string, a `{"name": ...}` object with `local` in every
spelling, an `EventTag`-style `{"Tag": {...}}` wrapper, or a full MISP tag object. The `expect`
of a spelled marking is what it means, stated here independently of the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

STIX_RED = [
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
]
STIX_GREEN = [
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
]
CLASSIFIED = [
    'nato:classification="NS"',
    'nato:classification="NR"',
    'nato:classification="NC"',
    'nato:classification="NU"',
    'nato:classification="CTS"',
    "euci:TS-UE/EU-TS",
    "euci:S-UE/EU-S",
    "euci:R-UE/EU-R",
    'fr-classif:classifiees="SECRET"',
    'fr-classif:non-classifiees="DIFFUSION_RESTREINTE"',
    'de-vs:Einstufung="VS-NfD"',
    'de-vs:Einstufung="GEHEIM"',
    'dni-ism:classification:all="S"',
]
UNREADABLE = [
    "tlp:purple",
    "tlp:unclear",
    "tlp",
    "tlp:red:x",
    "PAP:BLACK",
    "marking-definition--0d1f2e3c-0000-4000-8000-000000000000",
    "tl\u0440:green",  # a Cyrillic er for the p: a reader sees TLP, MISP a free tag
    "p\u03b1p:clear",  # a Greek alpha
    "t\u0336lp:green",  # struck through with a combining mark
    'n\u0430to:classification="NU"',  # a Cyrillic a
]
BENIGN = [
    'osint:source-type="blog-post"',
    'misp-galaxy:threat-actor="Sofacy"',
    "tlp:ex:chr",
    'admiralty-scale:source-reliability="b"',
]
# What each family means for a destination under the built-in policy: the rule that keeps it home, or None.
RULES = {"tlp-red": "tlp-red", "pap-red": "pap-red", "classified": "classified", "unreadable": "unreadable-marking"}
LOCAL_SPELLINGS: list[Any] = [None, "0", "false", "False", 0, False, "", "1", 1, True, "true", " 1 "]
PADDING = ["", " ", "  ", "\t", "\n", " \u00a0"]


@dataclass(frozen=True)
class Spelled:
    """One tag as written, the family it belongs to, and the rule it must trigger (None for a control)."""

    tag: Any
    family: str
    rule: str | None


def _cased(text: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda flips: "".join(c.upper() if f else c.lower() for c, f in zip(text, flips, strict=True))
    )


@st.composite
def scale_tag(draw: st.DrawFn, namespace: str, value: str) -> str:
    """`namespace:value` in any case, padded, with any spacing around the colon, the value quoted or not."""
    ns, val = draw(_cased(namespace)), draw(_cased(value))
    quote = draw(st.sampled_from(["", '"', "'"]))
    colon = draw(st.sampled_from([":", ": ", " :", " : "]))
    return f"{draw(st.sampled_from(PADDING))}{ns}{colon}{quote}{val}{quote}{draw(st.sampled_from(PADDING))}"


@st.composite
def padded_cased(draw: st.DrawFn, name: str) -> str:
    """`name` in any case, with whitespace around it and around its first colon."""
    head, colon, tail = name.partition(":")
    around = draw(st.sampled_from([":", ": ", " :"])) if colon else ""
    body = draw(_cased(head)) + around + draw(_cased(tail))
    return f"{draw(st.sampled_from(PADDING))}{body}{draw(st.sampled_from(PADDING))}"


def names(family: str) -> st.SearchStrategy[str]:
    """Tag names of one family of markings, in every spelling."""
    if family == "tlp-red":
        return scale_tag("tlp", "red") | st.sampled_from(STIX_RED).flatmap(padded_cased)
    if family == "pap-red":
        return scale_tag("pap", "red")
    if family == "classified":
        return st.sampled_from(CLASSIFIED).flatmap(padded_cased)
    if family == "unreadable":
        return st.sampled_from(UNREADABLE).flatmap(padded_cased)
    if family == "green":
        return scale_tag("tlp", "green") | scale_tag("tlp", "white") | st.sampled_from(STIX_GREEN).flatmap(padded_cased)
    return st.sampled_from(BENIGN)  # "benign": no marking at all


@st.composite
def tag_form(draw: st.DrawFn, name: str) -> Any:
    """`name` as MISP or PyMISP may carry it: a string, an object with `local` spelled any way, a wrapper."""
    form = draw(st.sampled_from(["string", "object", "local", "wrapped", "full"]))
    if form == "string":
        return name
    if form == "object":
        return {"name": name}
    if form == "local":
        return {"name": name, "local": draw(st.sampled_from(LOCAL_SPELLINGS))}
    if form == "wrapped":
        return {"Tag": {"name": name}, "local": draw(st.sampled_from(LOCAL_SPELLINGS))}
    return {"id": "17", "name": name, "colour": "#CC0033", "exportable": True, "local": 0, "hide_tag": False}


FAMILIES = ["tlp-red", "pap-red", "classified", "unreadable"]
CONTROLS = ["green", "benign"]


@st.composite
def spelled(draw: st.DrawFn, families: list[str] | None = None) -> Spelled:
    """One tag of a family drawn from `families` (all hazards and controls by default), in any form."""
    family = draw(st.sampled_from(families or FAMILIES + CONTROLS))
    return Spelled(draw(names(family).flatmap(tag_form)), family, RULES.get(family))
