"""The dashboard's routes on the hub's web server (Starlette): read-only, bound to loopback unless told otherwise.

One ledger connection serves every request under a lock (SQLite and psycopg connections are not
for concurrent use) and is made read-only in the database itself, so no request can write. The
routes are mounted by `hub serve` beside TAXII and the inbox page (`hub.web.app`); `Dashboard`
serves them alone, as `hub dashboard` did before there was one web server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from hub.dashboard import api
from hub.dashboard.guard import allowed_hosts
from hub.dashboard.page import page
from hub.errors import HubError, InputError
from hub.ledger import Ledger
from hub.web.guard import Guard
from hub.web.server import WebServer

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8074  # unprivileged, rarely taken; 74 for the common proposals
READ_METHODS = ["GET", "HEAD"]
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


class Figures:
    """The dashboard's one read-only ledger, and its endpoints run under a lock."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = read_only(ledger)
        self.lock = threading.Lock()

    def answer(self, path: str, query: api.Query) -> dict[str, Any]:
        """Run one endpoint under the lock, ending the read transaction after it (PostgreSQL)."""
        with self.lock:
            try:
                return ENDPOINTS[path](self.ledger, query, datetime.now(UTC).date())
            finally:
                if self.ledger.dialect.name != "sqlite":
                    self.ledger.conn.rollback()

    def routes(self) -> list[BaseRoute]:
        """The page and the JSON endpoints."""
        return [
            Route("/", self._page, methods=READ_METHODS),
            Route("/index.html", self._page, methods=READ_METHODS),
            *(Route(path, self._endpoint, methods=READ_METHODS) for path in ENDPOINTS),
        ]

    async def _page(self, request: Request) -> Response:
        return Response(page(), media_type="text/html; charset=utf-8")

    def _endpoint(self, request: Request) -> Response:
        """One JSON endpoint (run in Starlette's thread pool: the ledger is synchronous)."""
        path = request.url.path
        try:
            body = self.answer(path, parse_qs(request.url.query))
        except InputError as exc:
            return error(HTTPStatus.BAD_REQUEST, str(exc))
        except HubError as exc:
            log.warning("dashboard request %s failed: %s", path, exc)
            return error(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
        except Exception:  # a bug: answer 500 rather than drop the connection, and log it for the operator
            log.exception("dashboard request %s failed", path)
            return error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; see the dashboard's log")
        return JSONResponse(body)


def error(status: HTTPStatus, message: str, allow: str | None = None) -> Response:
    """The dashboard's error answer: `{"error": message}`."""
    headers = {"Allow": allow} if allow else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def not_found(request: Request, exc: Exception) -> Response:
    """An unknown page or endpoint."""
    return error(HTTPStatus.NOT_FOUND, f"no such page: {request.url.path}")


async def read_only_refusal(request: Request, exc: Exception) -> Response:
    """Any method but GET and HEAD on the dashboard."""
    return error(HTTPStatus.METHOD_NOT_ALLOWED, "the dashboard is read-only", allow="GET, HEAD")


def dashboard_app(figures: Figures, allow_hosts: Sequence[str] = ()) -> ASGIApp:
    """The dashboard alone, behind the guard."""
    app = Starlette(routes=figures.routes(), exception_handlers={404: not_found, 405: read_only_refusal})
    return Guard(app, allowed_hosts(allow_hosts))


class Dashboard(WebServer):
    """The dashboard served alone on `host:port`, with its one read-only ledger."""

    def __init__(
        self, ledger: Ledger, host: str = LOOPBACK, port: int = DEFAULT_PORT, allow_hosts: Sequence[str] = ()
    ) -> None:
        self.figures = Figures(ledger)
        self.ledger = self.figures.ledger
        super().__init__(dashboard_app(self.figures, allow_hosts), host, port)

    def answer(self, path: str, query: api.Query) -> dict[str, Any]:
        """Run one endpoint as a request would."""
        return self.figures.answer(path, query)
