"""Markings: TLP 2.0, PAP, releasability, originator control, classification, and their one reading.

Every marking the hub acts on is read here, from every spelling MISP and STIX use: MISP tags as
strings or objects (`{"name": ...}`, or `{"Tag": {"name": ...}}` as in `EventTag`), in any case,
with surrounding or inner whitespace, quoted values (`tlp:"red"`), `tlp:white` for CLEAR, the
AIS form (`ais-marking:TLPMarking="AMBER"`), and the STIX TLP 1.0 and 2.0 marking-definition ids.
Tags of the classification taxonomies (`nato`, `euci`, `fr-classif`, `de-vs`, `dni-ism`, and
`acs-marking:classification`) are classification markings. A tag that looks like a TLP, PAP,
STIX or classification marking but cannot be read is kept as *unreadable*, which withholds
(fail closed). The release policy, the MISP shaper and tagging all call `read_tags`/`read_part`;
nothing else parses a marking. When several markings of one scale are given, the strictest wins.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 levels, from least to most restrictive."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Pap(StrEnum):
    """Permissible Actions Protocol levels, from least to most restrictive."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    RED = "RED"


TLP_ORDER = list(Tlp)
PAP_ORDER = list(Pap)

# STIX 2.1 TLP 1.0 marking definitions (STIX 2.1 spec, section 7.2.1.4) and the TLP 2.0
# definitions of the OASIS TLP 2.0 extension; ids are fixed by those documents.
STIX_TLP: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Tlp.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Tlp.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Tlp.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": Tlp.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Tlp.RED,
}
STIX_MARKING = "marking-definition--"
# Values as they appear once read (case-folded, no whitespace or quotes); WHITE is TLP 1.0's CLEAR.
_TLP_VALUES = {
    "clear": Tlp.CLEAR,
    "white": Tlp.CLEAR,
    "green": Tlp.GREEN,
    "amber": Tlp.AMBER,
    "amber+strict": Tlp.AMBER_STRICT,
    "amber-strict": Tlp.AMBER_STRICT,
    "amber_strict": Tlp.AMBER_STRICT,
    "amberstrict": Tlp.AMBER_STRICT,
    "red": Tlp.RED,
}
_PAP_VALUES = {"clear": Pap.CLEAR, "white": Pap.CLEAR, "green": Pap.GREEN, "amber": Pap.AMBER, "red": Pap.RED}
# Entries of the MISP `tlp` taxonomy that are not a level and restrict nothing: `ex:chr` (Chatham
# House Rule) limits attribution, not distribution. `tlp:unclear` is *not* here: it says the level
# is unknown, so it is unreadable and withholds.
_TLP_NOT_LEVELS = frozenset({"ex:chr"})
AIS_TLP = "ais-marking:tlpmarking="  # the AIS (STIX 1) spelling of a TLP level
# Namespaces of pytaxonomies' classification taxonomies: every tag in them is a classification marking.
CLASSIFICATION_NAMESPACES = frozenset({"nato", "euci", "fr-classif", "de-vs", "dni-ism"})
CLASSIFICATION_PREDICATES = ("acs-marking:classification",)  # classification predicates of wider taxonomies
SHOWN_CHARS = 60  # how much of an unreadable tag a reason quotes: enough to find it, not a copy of the item
# Keys under which MISP and PyMISP carry the tags of an event, attribute, object, report or galaxy cluster.
TAG_KEYS = ("Tag", "EventTag", "AttributeTag", "ObjectTag", "tag_name", "Tags", "tags")
_ASCII_DROP = {c: None for c in range(33)} | {127: None}  # controls and space: never part of a marking's meaning
# Cyrillic and Greek letters drawn like the Latin ones of marking names (Unicode TR39 confusables): a tag
# spelled with them looks like a marking to a reader but is none to MISP, so it is unreadable, not ignored.
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁһӏԛԝвкмнтьАЕОРСХІЈЅВКМНТαοριυνκτχεΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhlqwbkmhtbaeopcxijsbkmhtaopiuvktxeabezhikmnoptyx",
)


def skeleton(text: str) -> str:
    """The form a tag is read in: NFKC, case-folded, without whitespace, control or format characters."""
    if text.isascii():
        return text.translate(_ASCII_DROP).lower()
    norm = unicodedata.normalize("NFKC", text)
    return "".join(c for c in norm if not c.isspace() and unicodedata.category(c)[0] not in "CZ").casefold()


def _unquoted(value: str) -> str:
    return value.replace('"', "").replace("'", "")


def _scale(s: str, name: str) -> str | None:
    """The value after `name` when `s` (a skeleton) is in that namespace (`tlp:x`, `tlp=x`, `tlp-x`), else None."""
    if not s.startswith(name) or (len(s) > len(name) and s[len(name)].isalnum()):
        return None
    return _unquoted(s[len(name) :].lstrip(":=-_."))


def classification_key(text: str) -> str:
    """The form in which a classification marking is compared with a policy's accepted ones."""
    return _unquoted(skeleton(text))


@dataclass(frozen=True)
class Marking:
    """What one tag says: a TLP or PAP level, a classification, or an unreadable marking."""

    tlp: Tlp | None = None
    pap: Pap | None = None
    classification: str | None = None  # `classification_key` of the tag
    unreadable: str | None = None  # the tag as written (shortened), when it looks like a marking but cannot be read


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


@lru_cache(maxsize=4096)  # tags repeat: the same few names on every attribute of an event
def read_tag_name(name: str) -> Marking | None:
    """The marking a tag name carries, or None when it is no marking (`osint:source-type="blog"`)."""
    s = skeleton(name)
    if s.startswith(STIX_MARKING):
        tlp = STIX_TLP.get(s)
        return Marking(tlp=tlp) if tlp else Marking(unreadable=_shown(name))
    value = _scale(s, "tlp")
    if value is not None:
        if value in _TLP_NOT_LEVELS:
            return None
        tlp = _TLP_VALUES.get(value)
        return Marking(tlp=tlp) if tlp else Marking(unreadable=_shown(name))
    value = _scale(s, "pap")
    if value is not None:
        pap = _PAP_VALUES.get(value)
        return Marking(pap=pap) if pap else Marking(unreadable=_shown(name))
    if s.startswith(AIS_TLP):
        tlp = _TLP_VALUES.get(_unquoted(s[len(AIS_TLP) :]))
        return Marking(tlp=tlp) if tlp else Marking(unreadable=_shown(name))
    if s.split(":", 1)[0] in CLASSIFICATION_NAMESPACES or s.startswith(CLASSIFICATION_PREDICATES):
        return Marking(classification=_unquoted(s))
    if not s.isascii():  # a marking drawn with look-alike letters or overlaid with combining marks
        plain = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
        folded = plain.translate(_LOOKALIKES)
        if folded != s and read_tag_name(folded) is not None:
            return Marking(unreadable=_shown(name))
    return None


def tag_names(tag: Any) -> list[str] | None:
    """Every name a tag carries, in any form MISP writes; None when the tag cannot be read at all."""
    if isinstance(tag, str):
        return [tag]
    if not isinstance(tag, Mapping):
        return None
    names = [v for v in (tag.get("name"), tag.get("tag_name")) if isinstance(v, str)]
    inner = tag.get("Tag")
    if isinstance(inner, Mapping) and isinstance(inner.get("name"), str):
        names.append(inner["name"])
    return names or None


def read_tag(tag: Any) -> list[Marking]:
    """The markings one tag carries (string or object form); an unreadable tag is an unreadable marking."""
    names = tag_names(tag)
    if names is None:
        return [Marking(unreadable=_shown(repr(tag)))]
    return [m for m in (read_tag_name(n) for n in names) if m is not None]


def _falsy(value: Any) -> bool:
    if value is None or value is False:
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0
    return isinstance(value, str) and value.strip().lower() in {"", "0", "false", "no", "off"}


def is_local(tag: Any) -> bool:
    """True for a local tag (MISP `local`, in any spelling), which never leaves its instance.

    Only a clearly false `local` (absent, 0, "0", false, "false", "") makes a tag shareable; an
    unreadable one keeps it home. Markings are read from local tags too: locality decides what
    travels, never what is releasable.
    """
    if not isinstance(tag, Mapping):
        return False
    inner = tag.get("Tag")
    return not _falsy(tag.get("local")) or (isinstance(inner, Mapping) and not _falsy(inner.get("local")))


def tag_elements(value: Any) -> Iterator[Any]:
    """The tags held under one tag key: a list of tags, one tag object, or one string; null holds none."""
    if value is None:
        return
    if isinstance(value, list | tuple):
        yield from value
    else:
        yield value


def part_tags(part: Mapping[str, Any]) -> Iterator[Any]:
    """Every tag of one part of a MISP event (event, attribute, object, report, galaxy cluster, ...)."""
    for key in TAG_KEYS:
        value = part.get(key)
        if value is not None:
            yield from tag_elements(value)


def strictest_tlp(levels: Iterable[Tlp]) -> Tlp | None:
    """The most restrictive of `levels`, or None for none."""
    return max(levels, key=TLP_ORDER.index, default=None)


def strictest_pap(levels: Iterable[Pap]) -> Pap | None:
    """The most restrictive of `levels`, or None for none."""
    return max(levels, key=PAP_ORDER.index, default=None)


@dataclass(frozen=True)
class Reading:
    """What a set of markings says: the strictest TLP and PAP, every classification, every unreadable marking."""

    tlp: Tlp | None = None
    pap: Pap | None = None
    classifications: tuple[str, ...] = ()  # `classification_key`s
    unreadable: tuple[str, ...] = ()  # the marking-like tags that could not be read, as written (shortened)

    def __or__(self, other: Reading) -> Reading:
        """Both readings together; the strictest level wins."""
        return Reading(
            strictest_tlp(t for t in (self.tlp, other.tlp) if t is not None),
            strictest_pap(p for p in (self.pap, other.pap) if p is not None),
            tuple(dict.fromkeys(self.classifications + other.classifications)),
            tuple(dict.fromkeys(self.unreadable + other.unreadable)),
        )

    def __bool__(self) -> bool:
        return bool(self.tlp or self.pap or self.classifications or self.unreadable)


NOTHING = Reading()


def read_tags(tags: Iterable[Any]) -> Reading:
    """The reading of `tags` (strings or MISP tag objects, local or not)."""
    found = [m for tag in tags for m in read_tag(tag)]
    if not found:
        return NOTHING
    return Reading(
        strictest_tlp(m.tlp for m in found if m.tlp is not None),
        strictest_pap(m.pap for m in found if m.pap is not None),
        tuple(dict.fromkeys(m.classification for m in found if m.classification is not None)),
        tuple(dict.fromkeys(m.unreadable for m in found if m.unreadable is not None)),
    )


def read_part(part: Mapping[str, Any]) -> Reading:
    """The reading of one MISP event part's own tags, under every key MISP uses for them."""
    return read_tags(part_tags(part))


def parse_tlp(value: str) -> Tlp:
    """Normalise one TLP marking (name, MISP tag or STIX id); ValueError if unknown."""
    marking = read_tag_name(value)
    tlp = marking.tlp if marking is not None else _TLP_VALUES.get(_unquoted(skeleton(value)))
    if tlp is None:
        allowed = ", ".join(t.value for t in Tlp)
        raise ValueError(f"{value!r} is not one of {allowed}")
    return tlp


def parse_pap(value: str) -> Pap:
    """Normalise one PAP marking (name or MISP `PAP:*` tag); ValueError if unknown."""
    marking = read_tag_name(value)
    pap = marking.pap if marking is not None else _PAP_VALUES.get(_unquoted(skeleton(value)))
    if pap is None:
        allowed = ", ".join(p.value for p in Pap)
        raise ValueError(f"{value!r} is not one of {allowed}")
    return pap


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class Markings(BaseModel):
    """What may be done with an item and who may receive it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tlp: Tlp | None = Field(None, description="TLP 2.0; a list or STIX ids are reduced to the strictest")
    pap: Pap | None = None
    releasable_to: tuple[str, ...] | None = Field(
        None, description="Sides or organisations the item may go to; absent means unrestricted by this field"
    )
    originator_control: bool = Field(False, description="ORCON: release needs the originator's consent")
    classification: str | None = Field(None, description="A security classification marking, if any")

    @field_validator("tlp", mode="before")
    @classmethod
    def _normalise_tlp(cls, value: Any) -> Tlp | None:
        items = _as_list(value)
        if not all(isinstance(v, str | Tlp) for v in items):
            raise ValueError("must be a TLP name, a MISP tlp:* tag or a STIX TLP marking id")
        return strictest_tlp([v if isinstance(v, Tlp) else parse_tlp(v) for v in items])

    @field_validator("pap", mode="before")
    @classmethod
    def _normalise_pap(cls, value: Any) -> Pap | None:
        items = _as_list(value)
        if not all(isinstance(v, str | Pap) for v in items):
            raise ValueError("must be a PAP name or a MISP PAP:* tag")
        return strictest_pap([v if isinstance(v, Pap) else parse_pap(v) for v in items])

    def reading(self) -> Reading:
        """What these fields say, as a Reading (a non-empty `classification` is a classification marking)."""
        classes = (classification_key(self.classification),) if self.classification else ()
        return Reading(self.tlp, self.pap, classes)

    def folded(self, reading: Reading) -> Markings:
        """These markings with the TLP and PAP of `reading` folded in; strictest wins; the same object if unchanged."""
        tlp = strictest_tlp(t for t in (self.tlp, reading.tlp) if t is not None)
        pap = strictest_pap(p for p in (self.pap, reading.pap) if p is not None)
        if tlp == self.tlp and pap == self.pap:
            return self
        return self.model_copy(update={"tlp": tlp, "pap": pap})
