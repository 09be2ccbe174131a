"""The dashboard's HTTP server: read-only, bound to loopback unless told otherwise, stdlib `http.server`.

One ledger connection serves every request under a lock (SQLite and psycopg connections are not
for concurrent use) and is made read-only in the database itself, so no request can write.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hub.dashboard import api
from hub.dashboard.guard import SECURITY_HEADERS, allowed_hosts, host_problem
from hub.dashboard.page import page
from hub.errors import HubError, InputError
from hub.ledger import Ledger

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8074  # unprivileged, rarely taken; 74 for the common proposals
log = logging.getLogger(__name__)

Endpoint = Callable[[Ledger, api.Query, Any], dict[str, Any]]
ENDPOINTS: dict[str, Endpoint] = {
    "/api/summary": api.summary,
    "/api/counts": api.counts,
    "/api/series": api.series,
    "/api/charts": api.chart_svgs,
    "/api/records": api.records,
}


def read_only(ledger: Ledger) -> Ledger:
    """Make the ledger's connection refuse writes at the database level."""
    if ledger.dialect.name == "sqlite":
        ledger.conn.execute("PRAGMA query_only = ON")
    else:
        ledger.conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        ledger.conn.commit()
    return ledger


class Dashboard(ThreadingHTTPServer):
    """The HTTP server with its one read-only ledger."""

    daemon_threads = True

    def __init__(
        self, ledger: Ledger, host: str = LOOPBACK, port: int = DEFAULT_PORT, allow_hosts: Sequence[str] = ()
    ) -> None:
        self.ledger = read_only(ledger)
        self.lock = threading.Lock()
        self.allowed = allowed_hosts(allow_hosts)
        super().__init__((host, port), Handler)

    @property
    def url(self) -> str:
        """Where the dashboard answers."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def answer(self, path: str, query: api.Query) -> dict[str, Any]:
        """Run one endpoint under the lock, ending the read transaction after it (PostgreSQL)."""
        with self.lock:
            try:
                return ENDPOINTS[path](self.ledger, query, datetime.now(UTC).date())
            finally:
                if self.ledger.dialect.name != "sqlite":
                    self.ledger.conn.rollback()


class Handler(BaseHTTPRequestHandler):
    """GET and HEAD only: the page and the JSON endpoints."""

    server: Dashboard
    server_version = "exchange-hub-dashboard"

    def _host_refused(self) -> bool:
        problem = host_problem(self.headers.get("Host"), self.server.allowed)
        if problem is not None:
            self._json(HTTPStatus.BAD_REQUEST, {"error": problem})
        return problem is not None

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Serve the page or an endpoint."""
        if self._host_refused():
            return
        parts = urlsplit(self.path)
        if parts.path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, page().encode(), "text/html; charset=utf-8")
            return
        if parts.path not in ENDPOINTS:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {parts.path}"})
            return
        try:
            body = self.server.answer(parts.path, parse_qs(parts.query))
        except InputError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except HubError as exc:
            log.warning("dashboard request %s failed: %s", self.path, exc)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": str(exc)})
        except Exception:  # a bug: answer 500 rather than drop the connection, and log it for the operator
            log.exception("dashboard request %s failed", self.path)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error; see the dashboard's log"})
        else:
            self._json(HTTPStatus.OK, body)

    def do_HEAD(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Headers of the page only."""
        if not self._host_refused():
            self._send(HTTPStatus.OK, b"", "text/html; charset=utf-8")

    def _refuse(self) -> None:
        self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "the dashboard is read-only"}, allow="GET, HEAD")

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815 - the names http.server dispatches to

    def _json(self, status: HTTPStatus, body: dict[str, Any], allow: str | None = None) -> None:
        self._send(status, json.dumps(body, ensure_ascii=False).encode(), "application/json", allow)

    def _send(self, status: HTTPStatus, data: bytes, ctype: str, allow: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Access log lines at debug level, not on stderr."""
        log.debug("%s " + format, self.address_string(), *args)
