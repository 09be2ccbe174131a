"""A small MISP REST API on loopback that PyMISP talks real HTTP to, keeping MISP's rules.

What it keeps: API-key authentication (403 "Authentication failed"); event UUID uniqueness (an add
of a known UUID is 403 "Event already exists"); attribute and object UUID uniqueness across events
(a clash is not saved, as MISP refuses it); the strictly-newer rule on edit (403 "not newer than
the local copy"); MISP's tag rules on edit, for the event and each attribute it holds (the tags
sent are added, the others kept; only a tag sent with `"deleted": true` is removed, or one taken
off by `tags/removeTagFromObject` or `events/removeTag/<event>/<tag>`); missing UUIDs and
timestamps set on save; published flags (`publish_timestamp` is the timestamp an event is saved
at, unless a test gives its own);
`events/index` with `minimal`, `published`, `timestamp`, `publish_timestamp`, `limit` and `page`
(newest first, as MISP lists them); `events/view` with `deleted`. Enough of `servers/getVersion`
and `users/view/me` for PyMISP to connect. `fail(n)` makes the next n requests answer HTTP 500;
`state.hostile`, when set, answers any request it wants to with a `Reply` of its own (see
`tests/connectors/hostile.py`). With `tls=(certfile, keyfile)` it speaks HTTPS.
"""

from __future__ import annotations

import copy
import json
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO

AUTH_FAILED = (
    "Authentication failed. Please make sure you pass the API key of an API enabled user along in the "
    "Authorization header."
)
NOT_NEWER = "Event could not be saved: Event in the request not newer than the local copy."


def _ts(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@dataclass
class Reply:
    """A hostile peer's answer: raw bytes, or a `stream` writing the body itself (then the connection closes)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Callable[[BinaryIO], None] | None = None


Hostile = Callable[[str, str, dict[str, Any]], Reply | None]  # (method, path, body) -> a reply, or None: behave


@dataclass
class MispState:
    """The server's events and its request log."""

    key: str
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # uuid -> event body
    ids: dict[str, str] = field(default_factory=dict)  # numeric id -> uuid
    owners: dict[str, str] = field(default_factory=dict)  # attribute or object uuid -> event uuid
    calls: list[str] = field(default_factory=list)
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    hostile: Hostile | None = None
    stopping: threading.Event = field(default_factory=threading.Event)  # ends endless and silent answers

    def fail(self, n: int) -> None:
        """Answer the next `n` requests with HTTP 500."""
        self.failures = n

    def _find(self, ref: str) -> dict[str, Any] | None:
        return self.events.get(self.ids.get(ref, ref))

    def _claim(self, event_uuid: str, parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`parts` whose UUIDs are free or already this event's (MISP refuses the others)."""
        kept = []
        for part in parts:
            owner = self.owners.setdefault(str(part["uuid"]), event_uuid)
            if owner == event_uuid:
                kept.append(part)
        return kept

    def _stamp(self, part: dict[str, Any], now: str) -> None:
        part.setdefault("uuid", str(uuid.uuid4()))
        if not part.get("timestamp"):
            part["timestamp"] = now

    def _save(self, body: dict[str, Any]) -> dict[str, Any]:
        now = str(int(time.time()))
        self._stamp(body, now)
        for a in body.get("Attribute") or []:
            self._stamp(a, now)
        for o in body.get("Object") or []:
            self._stamp(o, now)
            for a in o.get("Attribute") or []:
                self._stamp(a, now)
        key = str(body["uuid"])
        body["Attribute"] = self._claim(key, body.get("Attribute") or [])
        objects = self._claim(key, body.get("Object") or [])
        for o in objects:
            o["Attribute"] = self._claim(key, o.get("Attribute") or [])
        body["Object"] = objects
        body["published"] = bool(body.get("published", False))
        if body["published"] and not body.get("publish_timestamp"):
            body["publish_timestamp"] = str(body["timestamp"])  # published as saved (tests may give their own)
        self.events[key] = body
        self.ids[str(body["id"])] = key
        return body

    def add(self, doc: dict[str, Any]) -> tuple[int, Any]:
        """`events/add`."""
        body = copy.deepcopy(doc.get("Event", doc))
        if str(body.get("uuid")) in self.events:
            message = "Event already exists, if you would like to edit it, use the url in the location header."
            return 403, {"name": message, "message": message, "url": "/events/add"}
        body["id"] = str(len(self.ids) + 1)
        return 200, {"Event": self._save(body)}

    def edit(self, ref: str, doc: dict[str, Any]) -> tuple[int, Any]:
        """`events/edit/<id or uuid>`: strictly newer replaces; attributes not sent are kept, as MISP does."""
        old = self._find(ref)
        if old is None:
            return 404, {"name": "Invalid event", "message": "Invalid event", "url": f"/events/edit/{ref}"}
        body = copy.deepcopy(doc.get("Event", doc))
        if body.get("timestamp") and _ts(body["timestamp"]) <= _ts(old["timestamp"]):
            return 403, {
                "name": "Could not edit Event",
                "message": "Could not edit Event",
                "url": f"/events/edit/{ref}",
                "errors": NOT_NEWER,
            }
        body["id"], body["uuid"] = old["id"], old["uuid"]
        body["Tag"] = _tags_on_edit(old.get("Tag") or [], body.get("Tag"))
        _part_tags_on_edit(old, body)
        for key in ("Attribute", "Object"):
            sent = {str(p.get("uuid")): p for p in body.get(key) or []}
            body[key] = [p for p in old.get(key) or [] if str(p["uuid"]) not in sent] + list(sent.values())
        return 200, {"Event": self._save(body)}

    def untag(self, ref: str, tag: str) -> tuple[int, Any]:
        """`tags/removeTagFromObject` and `events/removeTag`: take `tag` (a name) off an event or an attribute."""
        for event in self.events.values():
            holders = [event, *(event.get("Attribute") or [])]
            for o in event.get("Object") or []:
                holders += o.get("Attribute") or []
            for holder in holders:
                if ref in (str(holder.get("uuid")), str(holder.get("id"))):
                    before = holder.get("Tag") or []
                    holder["Tag"] = [t for t in before if t.get("name") != tag]
                    if len(holder["Tag"]) == len(before):
                        return 200, {"saved": False, "errors": "Invalid Tag."}
                    return 200, {"saved": True, "success": "Tag removed.", "check_publish": True}
        return 404, {"name": "Invalid object.", "message": "Invalid object.", "url": "/tags/removeTagFromObject"}

    def index(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """`events/index`: `published`, `timestamp` (at or after, or a [from, to] pair), `minimal`, `limit`, `page`."""
        rows = sorted(self._index(query), key=lambda r: (-_ts(r["timestamp"]), int(r["id"])))
        if query.get("limit"):
            limit, page = int(query["limit"]), int(query.get("page") or 1)
            rows = rows[(page - 1) * limit : page * limit]
        return rows

    def _index(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for e in self.events.values():
            if "published" in query and bool(query["published"]) != e["published"]:
                continue
            if not _within(e.get("timestamp"), query.get("timestamp")):
                continue
            if not _within(e.get("publish_timestamp"), query.get("publish_timestamp")):
                continue
            if query.get("minimal"):
                orgc = (e.get("Orgc") or {}).get("uuid", "")
                rows.append(
                    {
                        "id": e["id"],
                        "uuid": e["uuid"],
                        "timestamp": str(e["timestamp"]),
                        "sighting_timestamp": "0",
                        "published": e["published"],
                        "orgc_uuid": orgc,
                    }
                )
            else:
                rows.append({k: v for k, v in e.items() if k not in ("Attribute", "Object")})
        return rows

    def view(self, ref: str, query: dict[str, Any]) -> tuple[int, Any]:
        """`events/view/<id or uuid>`; soft-deleted attributes only when `deleted` includes 1."""
        event = self._find(ref)
        if event is None:
            return 404, {"name": "Invalid event.", "message": "Invalid event.", "url": f"/events/view/{ref}"}
        deleted = query.get("deleted", 0)
        with_deleted = 1 in deleted if isinstance(deleted, list) else bool(deleted)
        body = dict(event)
        if not with_deleted:
            body["Attribute"] = [a for a in event.get("Attribute") or [] if not a.get("deleted")]
            body["Object"] = [
                {**o, "Attribute": [a for a in o.get("Attribute") or [] if not a.get("deleted")]}
                for o in event.get("Object") or []
            ]
        return 200, {"Event": body}


def _within(value: Any, bound: Any) -> bool:
    """MISP's index filter on a time: at or after `bound`, or within a [from, to] pair; no bound: any."""
    if bound is None:
        return True
    low, high = bound if isinstance(bound, list) else (bound, None)
    return _ts(value) >= _ts(low) and (high is None or _ts(value) <= _ts(high))


def _part_tags_on_edit(old: dict[str, Any], body: dict[str, Any]) -> None:
    """MISP's tag rule on each attribute (objects' included) an event edit sends that MISP holds."""
    held = {str(a.get("uuid")): a for a in old.get("Attribute") or []}
    for o in old.get("Object") or []:
        held.update((str(a.get("uuid")), a) for a in o.get("Attribute") or [])
    sent = list(body.get("Attribute") or [])
    for o in body.get("Object") or []:
        sent += o.get("Attribute") or []
    for a in sent:
        if str(a.get("uuid")) in held:
            a["Tag"] = _tags_on_edit(held[str(a["uuid"])].get("Tag") or [], a.get("Tag"))


def _tags_on_edit(held: list[dict[str, Any]], sent: Any) -> list[dict[str, Any]]:
    """MISP's event edit: sent tags are attached, held ones kept; only a tag sent with `deleted` is detached."""
    if not isinstance(sent, list):
        return held
    gone = {t.get("name") for t in sent if isinstance(t, dict) and t.get("deleted")}
    kept = [t for t in held if t.get("name") not in gone]
    names = {t.get("name") for t in kept}
    for t in sent:
        if isinstance(t, dict) and not t.get("deleted") and t.get("name") not in names:
            kept.append({k: v for k, v in t.items() if k != "deleted"})
            names.add(t.get("name"))
    return kept


def _user() -> dict[str, Any]:
    return {
        "User": {"id": "1", "email": "sync@hub.example", "org_id": "1", "role_id": "5", "disabled": False},
        "Role": {"id": "5", "name": "Sync user", "perm_sync": True, "perm_add": True, "perm_modify": True},
        "UserSetting": {},
        "Organisation": {"id": "1", "name": "Hub sync", "uuid": "b7a4c1a2-0000-4000-8000-000000000001"},
    }


class _Handler(BaseHTTPRequestHandler):
    state: MispState
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: Nagle plus delayed ACK cost 40 ms an answer

    def log_message(self, *_: Any) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, doc: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        size = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(size) if size else b""
        doc = json.loads(raw) if raw else {}
        return doc if isinstance(doc, dict) else {}

    def _route(self) -> None:
        st = self.state
        path = self.path.split("?", 1)[0].strip("/")
        body = self._body() if self.command == "POST" else {}
        with st.lock:
            st.calls.append(f"{self.command} {path}")
            hostile = st.hostile
        reply = hostile(self.command, path, body) if hostile is not None else None
        if reply is not None:
            self._send(reply)
            return
        with st.lock:
            if st.failures > 0:
                st.failures -= 1
                data = b"Internal Server Error"
                self.send_response(500)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if self.headers.get("Authorization") != st.key:
                self._reply(403, {"name": AUTH_FAILED, "message": AUTH_FAILED, "url": f"/{path}"})
                return
            self._dispatch(st, path, body)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", **reply.headers}
        if reply.stream is None:
            headers["Content-Length"] = str(len(reply.body))
        else:
            headers["Connection"] = "close"
            self.close_connection = True
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            if reply.stream is not None:
                reply.stream(self.wfile)
            elif self.command != "HEAD":
                self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _dispatch(self, st: MispState, path: str, body: dict[str, Any]) -> None:
        parts = path.split("/")
        if path == "servers/getVersion":
            self._reply(200, {"version": "2.5.2", "pymisp_recommended_version": "2.5.2", "perm_sync": True})
        elif path == "users/view/me":
            self._reply(200, _user())
        elif path == "attributes/describeTypes.json":
            from pymisp.abstract import describe_types

            self._reply(200, {"result": describe_types})
        elif path == "events/index":
            self._reply(200, st.index(body))
        elif parts[:2] == ["events", "view"] and len(parts) >= 3:
            self._reply(*st.view(parts[2], body))
        elif parts[:2] == ["events", "add"]:
            status, doc = st.add(body)
            location = {"Location": f"/events/edit/{body.get('Event', body).get('uuid')}"} if status == 403 else None
            self._reply(status, doc, location)
        elif parts[:2] == ["events", "edit"] and len(parts) >= 3:
            self._reply(*st.edit(parts[2], body))
        elif path == "tags/removeTagFromObject":
            self._reply(*st.untag(str(body.get("uuid", "")), str(body.get("tag", ""))))
        elif parts[:2] == ["events", "removeTag"] and len(parts) >= 4:
            from urllib.parse import unquote

            self._reply(*st.untag(parts[2], unquote("/".join(parts[3:]))))
        else:
            self._reply(404, {"name": "Not Found", "message": "Not Found", "url": f"/{path}"})

    do_GET = do_POST = do_HEAD = _route


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError):  # clients that hang up: expected here
            super().handle_error(request, client_address)


class MispServer:
    """The server in a thread on a free loopback port; use as a context manager."""

    def __init__(self, key: str = "hub-test-key-0123456789abcdef0123456789", tls: tuple[str, str] | None = None):
        self.state = MispState(key)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL the connectors are given."""
        host = "localhost" if self.scheme == "https" else "127.0.0.1"
        return f"{self.scheme}://{host}:{self.httpd.server_address[1]}/"

    @property
    def key(self) -> str:
        """The API key it accepts."""
        return self.state.key

    def __enter__(self) -> MispServer:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.state.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
