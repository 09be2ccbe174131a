"""Tagging: machine tags for area, TLP, PAP, proposals, parallel groups, hybrid-threat domains and DISARM techniques.

DISARM ids are checked against the DISARM galaxy of pymispgalaxies; tags whose namespace is a
MISP taxonomy (pytaxonomies) are checked against it. Both libraries load once, lazily. TLP and PAP
tags come from the item's one reading of markings (`Envelope.reading`, the release policy's), so a
delivered item carries exactly the levels the policy judged, each in its one MISP spelling.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

from schemas.envelope import Envelope
from schemas.markings import read_tag_name

DISARM_GALAXY = "disarm-techniques"


@cache
def disarm_techniques() -> dict[str, str]:
    """DISARM technique id to name, from the DISARM cluster file pymispgalaxies ships.

    The one cluster file is read directly: `pymispgalaxies.Clusters()` loads every galaxy (1.6 s)
    and importing the package costs 1.2 s more, which a worker paid before its first decision.
    """
    spec = importlib.util.find_spec("pymispgalaxies")  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise ImportError("pymispgalaxies is not installed")
    path = Path(spec.origin).parent / "data" / "misp-galaxy" / "clusters" / f"{DISARM_GALAXY}.json"
    cluster = json.loads(path.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for value in cluster.get("values", []):
        ext = (value.get("meta") or {}).get("external_id")
        if isinstance(ext, str):
            found[ext] = value["value"]
    return found


@cache
def _taxonomies() -> dict[str, frozenset[str]]:
    from pytaxonomies import Taxonomies  # type: ignore[attr-defined]

    return {name.lower(): frozenset(t.lower() for t in tax.machinetags()) for name, tax in Taxonomies().items()}


def unknown_disarm_techniques(ids: tuple[str, ...]) -> list[str]:
    """The ids in `ids` that the DISARM framework does not define."""
    known = disarm_techniques()
    return [i for i in ids if i not in known]


def unknown_taxonomy_tags(tags: tuple[str, ...]) -> list[str]:
    """Tags whose namespace is a known taxonomy but whose value it does not define."""
    if not any(":" in t for t in tags):
        return []
    taxonomies = _taxonomies()
    bad = []
    for tag in tags:
        namespace = tag.split(":", 1)[0].lower()
        if namespace in taxonomies and tag.lower() not in taxonomies[namespace]:
            bad.append(tag)
    return bad


def _is_level(tag: str) -> bool:
    found = read_tag_name(tag)
    return found is not None and (found.tlp is not None or found.pap is not None)


def machine_tags(envelope: Envelope) -> tuple[str, ...]:
    """The envelope's own tags (TLP and PAP ones in their one spelling) plus the hub's machine tags, sorted."""
    tags = {t for t in envelope.tags if not _is_level(t)}
    tags.add(f'hub:area="{envelope.area}"')
    tags.add(f'hub:origin="{envelope.origin}"')
    tags.update(f'hub:proposal="{n}"' for n in envelope.proposals)
    reading = envelope.reading()
    if reading.tlp is not None:
        tags.add(f"tlp:{reading.tlp.lower()}")
    if reading.pap is not None:
        tags.add(f"PAP:{reading.pap}")
    if envelope.kind == "assessment":
        tags.update(f'hybrid:domain="{d}"' for d in envelope.payload.domains)  # type: ignore[union-attr]
        group = envelope.payload.parallel_group  # type: ignore[union-attr]
        if group is not None:
            tags.add(f'hub:parallel-group="{group}"')  # pairs the EU and NATO assessments in the reports
    elif envelope.kind == "stratcom_note":
        names = disarm_techniques()
        for tid in envelope.payload.disarm_techniques:  # type: ignore[union-attr]
            tags.add(f'misp-galaxy:{DISARM_GALAXY}="{names[tid]}"')  # the galaxy's own tag form
    return tuple(sorted(tags))
