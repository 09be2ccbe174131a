"""Tagging: machine tags for area, TLP, PAP, proposals, parallel groups, hybrid-threat domains and DISARM techniques.

DISARM ids are checked against the DISARM galaxy of pymispgalaxies; tags whose namespace is a
MISP taxonomy (pytaxonomies) are checked against it. Both libraries load once, lazily.
"""

from __future__ import annotations

from functools import cache

from schemas.envelope import Envelope

DISARM_GALAXY = "disarm-techniques"


@cache
def disarm_techniques() -> dict[str, str]:
    """DISARM technique id to name, from the pymispgalaxies cluster."""
    from pymispgalaxies import Clusters  # type: ignore[attr-defined]

    cluster = Clusters().get(DISARM_GALAXY)
    found: dict[str, str] = {}
    for value in cluster.cluster_values.values() if cluster else []:
        meta = value.meta
        ext = (meta.additional_properties or {}).get("external_id") if meta else None
        if isinstance(ext, str):
            found[ext] = value.value
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


def machine_tags(envelope: Envelope) -> tuple[str, ...]:
    """The envelope's own tags plus the hub's machine tags, sorted, without repeats."""
    tags = set(envelope.tags)
    tags.add(f'hub:area="{envelope.area}"')
    tags.add(f'hub:origin="{envelope.origin}"')
    tags.update(f'hub:proposal="{n}"' for n in envelope.proposals)
    m = envelope.markings
    if m.tlp is not None:
        tags.add(f"tlp:{m.tlp.lower()}")
    if m.pap is not None:
        tags.add(f"PAP:{m.pap}")
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
