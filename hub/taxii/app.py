"""The TAXII 2.1 routes: discovery, each side's API root, its collections, objects, manifest, versions and status.

Every route checks, in this order: a token (401 without one that checks, with a TAXII error body),
the side (403 when the token's side is not this root's), then the media type the client accepts
(406) and, for a POST, the one it sends (415). A token opens its own side's root only: a side
reads its own inbox and submits as its own organisation, nothing else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hub.core.keys import org_key
from hub.errors import HubError, InputError
from hub.ledger import Ledger, Record
from hub.ledger.statuses import StatusRecord, Submitted, load, now, save
from hub.ledger.tokens import Holder
from hub.taxii import collections as col
from hub.taxii.auth import holder
from hub.taxii.media import accepts_taxii, is_taxii, taxii_error, taxii_json
from hub.taxii.service import Service
from hub.taxii.status import resource
from hub.taxii.submissions import items_of, raw

MAX_BODY = 64 << 20  # bytes of a POST: the hub's largest item
TAXII_PREFIXES = ("/taxii2/", *(f"/{root}/" for root in col.ROOTS))
Handler = Callable[[Request, Holder], Awaitable[Response]]


def is_taxii_path(path: str) -> bool:
    """Whether `path` is one of the TAXII server's (its errors are TAXII error messages)."""
    return path.startswith(TAXII_PREFIXES) or path in ("/taxii2", *(f"/{r}" for r in col.ROOTS))


class Taxii:
    """The TAXII routes over one `Service`."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def guarded(self, root: str | None, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """`handler` behind the token, side and media type checks."""

        async def endpoint(request: Request) -> Response:
            who = await holder(request, self.service)
            if who is None:
                return taxii_error(
                    HTTPStatus.UNAUTHORIZED,
                    "an API token is required: Authorization: Bearer TOKEN (`hub tokens add ORG SIDE`)",
                    {"WWW-Authenticate": 'Bearer realm="exchange-hub"'},
                )
            if root is not None and col.ROOTS[root] != who.side:
                return taxii_error(HTTPStatus.FORBIDDEN, f"a {who.side} token opens the {who.side} API root only")
            if not accepts_taxii(request.headers.get("accept")):
                return taxii_error(HTTPStatus.NOT_ACCEPTABLE, "this server answers application/taxii+json;version=2.1")
            try:
                return await handler(request, who)
            except InputError as exc:
                return taxii_error(HTTPStatus.BAD_REQUEST, str(exc))
            except HubError as exc:
                return taxii_error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))

        return endpoint

    def routes(self) -> list[BaseRoute]:
        """Every TAXII route."""
        found: list[BaseRoute] = [Route("/taxii2/", self.guarded(None, self._discovery), methods=["GET", "HEAD"])]
        for root in col.ROOTS:
            base = f"/{root}"
            table: list[tuple[str, Handler, list[str]]] = [
                ("/", self._root(root), ["GET", "HEAD"]),
                ("/collections/", self._collections(root), ["GET", "HEAD"]),
                ("/collections/{cid}/", self._collection(root), ["GET", "HEAD"]),
                ("/collections/{cid}/objects/", self._objects(root), ["GET", "HEAD", "POST"]),
                ("/collections/{cid}/manifest/", self._manifest(root), ["GET", "HEAD"]),
                ("/collections/{cid}/objects/{oid}/", self._object(root), ["GET", "HEAD"]),
                ("/collections/{cid}/objects/{oid}/versions/", self._versions(root), ["GET", "HEAD"]),
                ("/status/{sid}/", self._status(root), ["GET", "HEAD"]),
            ]
            found += [Route(base + path, self.guarded(root, h), methods=m) for path, h, m in table]
        return found

    async def _discovery(self, request: Request, who: Holder) -> Response:
        return taxii_json(col.discovery(str(request.base_url)))

    def _root(self, root: str) -> Handler:
        async def handle(request: Request, who: Holder) -> Response:
            return taxii_json(col.api_root(root))

        return handle

    def _collections(self, root: str) -> Handler:
        async def handle(request: Request, who: Holder) -> Response:
            return taxii_json({"collections": [col.collection(root, n) for n in (col.INBOX, col.SUBMISSIONS)]})

        return handle

    def _collection(self, root: str) -> Handler:
        async def handle(request: Request, who: Holder) -> Response:
            name = col.named(root, request.path_params["cid"])
            if name is None:
                return taxii_error(HTTPStatus.NOT_FOUND, "no such collection under this API root")
            return taxii_json(col.collection(root, name))

        return handle

    def _readable(self, root: str, request: Request) -> Response | None:
        name = col.named(root, request.path_params["cid"])
        if name is None:
            return taxii_error(HTTPStatus.NOT_FOUND, "no such collection under this API root")
        if name != col.INBOX:
            return taxii_error(HTTPStatus.FORBIDDEN, "the submissions collection is write-only; read the inbox")
        return None

    def _objects(self, root: str) -> Handler:
        async def handle(request: Request, who: Holder) -> Response:
            if request.method == "POST":
                return await self._add(root, request, who)
            refused = self._readable(root, request)
            params = parse_qs(request.url.query)
            return refused or await col.get_objects(self.service, col.ROOTS[root], params)

        return handle

    def _manifest(self, root: str) -> Handler:
        async def handle(request: Request, who: Holder) -> Response:
            refused = self._readable(root, request)
            return refused or await col.get_manifest(self.service, col.ROOTS[root], parse_qs(request.url.query))

        return handle

    def _object(self, root: str) -> Handler:
        async def handle(request: Request, who: Holder) -> Response:
            refused = self._readable(root, request)
            params, oid = parse_qs(request.url.query), request.path_params["oid"]
            return refused or await col.get_objects(self.service, col.ROOTS[root], params, only=oid)

        return handle

    def _versions(self, root: str) -> Handler:
        async def handle(request: Request, who: Holder) -> Response:
            refused = self._readable(root, request)
            params, oid = parse_qs(request.url.query), request.path_params["oid"]
            return refused or await col.get_versions(self.service, col.ROOTS[root], params, oid)

        return handle

    async def _add(self, root: str, request: Request, who: Holder) -> Response:
        """POST to the submissions collection: submit each hub item signed for `who`; 202 with a status resource."""
        name = col.named(root, request.path_params["cid"])
        if name is None:
            return taxii_error(HTTPStatus.NOT_FOUND, "no such collection under this API root")
        if name != col.SUBMISSIONS:
            return taxii_error(HTTPStatus.FORBIDDEN, "the inbox is read-only; add to the submissions collection")
        if not is_taxii(request.headers.get("content-type")):
            return taxii_error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/taxii+json;version=2.1")
        if not self.service.can_sign(who.side, who.org):
            why = f"this server holds no signing key for {who.org} ({who.side}); see `hub serve` in the README"
            return taxii_error(HTTPStatus.FORBIDDEN, why)
        body = await _json_body(request)
        items, failures = items_of(body, who)
        sid_base = uuid.uuid4()
        sids = [f"taxii-{sid_base.hex}-{i}" for i in range(len(items))]
        if items:
            await self.service.publish([raw(i) for i in items], sids)
        status = StatusRecord(str(sid_base), who.side, who.org, now(),
                              [Submitted(i.stix_id, i.version, s) for i, s in zip(items, sids, strict=True)],
                              [f.as_json() for f in failures])  # fmt: skip
        await self.service.db(save, status)
        return taxii_json(resource(status, {}), status=HTTPStatus.ACCEPTED)

    def _status(self, root: str) -> Handler:
        async def handle(request: Request, who: Holder) -> Response:
            status = await self.service.db(load, str(request.path_params["sid"])[:64])
            if status is None or status.side != who.side or org_key(status.org) != org_key(who.org):
                return taxii_error(HTTPStatus.NOT_FOUND, "no such status resource for this organisation")
            decided = await self.service.db(_decided, [s.submission_id for s in status.submissions])
            return taxii_json(resource(status, decided))

        return handle


def _decided(ledger: Ledger, sids: list[str]) -> dict[str, Record]:
    found = dict(ledger.decided(sids)) if sids else {}
    if ledger.dialect.name != "sqlite":
        ledger.conn.rollback()
    return found


async def _json_body(request: Request) -> dict[str, object]:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise InputError(f"the request is larger than {MAX_BODY >> 20} MiB")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InputError("the request is not a JSON document") from exc
    if not isinstance(body, dict) or not isinstance(body.get("objects", []), list):
        raise InputError("the request must be a TAXII envelope: an object with `objects`, a list")
    return body
