"""The hub's one ASGI application: the dashboard, the TAXII 2.1 server and the inbox page, behind one guard.

    app = web_app(settings, figures_ledger, taxii_ledger, bootstrap)   # what `hub serve` runs

Unknown paths and methods are answered in the language of the part asked: a TAXII error message
under `/taxii2/`, `/eu/` and `/nato/`, the dashboard's `{"error": …}` elsewhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from hub.dashboard.guard import allowed_hosts
from hub.dashboard.server import Figures, not_found, read_only_refusal
from hub.ledger import Ledger
from hub.settings import Settings
from hub.taxii.app import Taxii, is_taxii_path
from hub.taxii.media import taxii_error
from hub.taxii.service import Service
from hub.web.guard import Guard
from hub.web.inbox import InboxPage


async def _missing(request: Request, exc: Exception) -> Response:
    if is_taxii_path(request.url.path):
        return taxii_error(HTTPStatus.NOT_FOUND, f"no such resource: {request.url.path[:200]}")
    return await not_found(request, exc)


async def _method(request: Request, exc: Exception) -> Response:
    if is_taxii_path(request.url.path):
        return taxii_error(HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} is not served here")
    return await read_only_refusal(request, exc)


def web_app(
    settings: Settings, figures: Ledger, taxii: Ledger, bootstrap: Callable[[], str]
) -> tuple[ASGIApp, Service]:
    """The application and its TAXII service (close it when the server stops)."""
    service = Service(settings, taxii, bootstrap)
    routes = [*Figures(figures).routes(), *Taxii(service).routes(), *InboxPage(service).routes()]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await service.close()  # the publisher lives on the server's event loop: stopped there

    app = Starlette(routes=routes, exception_handlers={404: _missing, 405: _method}, lifespan=lifespan)
    return Guard(app, allowed_hosts(settings.serve.allow_hosts)), service
