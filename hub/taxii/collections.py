"""Discovery, API roots and collections, and the inbox collection's objects, manifest and versions.

Each side has one API root (`/eu/`, `/nato/`) with two collections: `inbox`, read-only, the
side's deliveries from the delivery store as STIX 2.1; and `submissions`, write-only, where the
side's organisations add items for the hub to decide. Collection ids are stable UUIDs derived from
the root and the name, so a client may keep them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from hub.ledger.deliveries import ObjectQuery, StoredObject, objects
from hub.taxii.media import STIX, TAXII, taxii_error, taxii_json
from hub.taxii.paging import MAX_PAGE, limit_of, query_of
from hub.taxii.service import Service

NAMESPACE = uuid.UUID("3f6c2d1e-8a4b-4c7d-9e0f-1a2b3c4d5e6f")  # the hub's UUIDv5 namespace for collection ids
ROOTS = {"eu": "EU", "nato": "NATO"}  # API root path -> side
INBOX, SUBMISSIONS = "inbox", "submissions"
Json = dict[str, Any]
Params = Mapping[str, Sequence[str]]


def collection_id(root: str, name: str) -> str:
    """The stable id of collection `name` under `root`."""
    return str(uuid.uuid5(NAMESPACE, f"{root}/{name}"))


def collection(root: str, name: str) -> Json:
    """A collection resource."""
    side = ROOTS[root]
    if name == INBOX:
        title, text = f"{side} inbox", f"What the hub delivered to the {side} side, as STIX 2.1"
    else:
        title, text = f"{side} submissions", f"Items the {side} side submits to the hub (assessments, stratcom notes)"
    return {"id": collection_id(root, name), "title": title, "description": text,
            "can_read": name == INBOX, "can_write": name == SUBMISSIONS, "media_types": [STIX]}  # fmt: skip


def named(root: str, cid: str) -> str | None:
    """Which collection of `root` has id `cid`, if any."""
    return next((n for n in (INBOX, SUBMISSIONS) if collection_id(root, n) == cid), None)


def discovery(base: str) -> Json:
    """The discovery resource."""
    return {
        "title": "The exchange hub",
        "description": "EU-NATO exchange hub: each side reads its inbox and submits under its own API root",
        "default": f"{base}eu/",
        "api_roots": [f"{base}{root}/" for root in ROOTS],
    }


def api_root(root: str) -> Json:
    """An API root resource."""
    return {"title": f"The exchange hub: {ROOTS[root]} side", "versions": [TAXII], "max_content_length": 64 << 20}


def _dated(page: list[StoredObject]) -> dict[str, str]:
    if not page:
        return {}
    return {"X-TAXII-Date-Added-First": page[0].date_added, "X-TAXII-Date-Added-Last": page[-1].date_added}


async def _page(service: Service, query: ObjectQuery, limit: int) -> tuple[list[StoredObject], bool]:
    found = await service.db(objects, query, limit + 1)
    return found[:limit], len(found) > limit


def _continued(body: Json, page: list[StoredObject], more: bool) -> Json:
    if more:
        body["more"] = True
        body["next"] = str(page[-1].row)
    elif page:
        body["more"] = False
    return body


async def get_objects(service: Service, side: str, params: Params, only: str | None = None) -> Response:
    """The inbox's objects (`only`: one object's versions), filtered and paged."""
    query = query_of(side, params, ("last",))
    if only is not None:
        query = ObjectQuery(side, query.added_after, (only,), (), query.versions, query.after_row)
    page, more = await _page(service, query, limit_of(params))
    if only is not None and not page and not await _exists(service, side, only):
        return taxii_error(HTTPStatus.NOT_FOUND, f"no object {only[:100]} in this collection")
    body = _continued({"objects": [o.object for o in page]} if page else {}, page, more)
    return taxii_json(body, headers=_dated(page))


async def get_manifest(service: Service, side: str, params: Params) -> Response:
    """The inbox's manifest: id, date added, version and media type of each object version."""
    page, more = await _page(service, query_of(side, params, ("last",)), limit_of(params))
    rows = [{"id": o.stix_id, "date_added": o.date_added, "version": o.version, "media_type": STIX} for o in page]
    return taxii_json(_continued({"objects": rows} if rows else {}, page, more), headers=_dated(page))


async def get_versions(service: Service, side: str, params: Params, stix_id: str) -> Response:
    """Every version of one object in the inbox."""
    base = query_of(side, params, ("all",))
    query = ObjectQuery(side, base.added_after, (stix_id,), (), ("all",), base.after_row)
    page, more = await _page(service, query, limit_of(params))
    if not page and not await _exists(service, side, stix_id):
        return taxii_error(HTTPStatus.NOT_FOUND, f"no object {stix_id[:100]} in this collection")
    body = _continued({"versions": [o.version for o in page]} if page else {}, page, more)
    return taxii_json(body, headers=_dated(page))


async def _exists(service: Service, side: str, stix_id: str) -> bool:
    return bool(await service.db(objects, ObjectQuery(side, ids=(stix_id,), versions=("all",)), 1))


__all__ = ["MAX_PAGE", "ROOTS", "api_root", "collection", "discovery", "get_manifest", "get_objects"]
