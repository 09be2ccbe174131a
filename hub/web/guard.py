"""The guard in front of every route: only allowed Host names are served, and every answer carries the security headers.

A DNS-rebinding page makes a browser send the attacker's host name to a loopback server; the
check (`hub.dashboard.guard.host_problem`) runs before any route, so nothing is read for it. Every
response, refusals included, refuses framing and sniffing; a route may send a stricter
Content-Security-Policy of its own (the inbox page does: no inline script at all).
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.dashboard.guard import SECURITY_HEADERS, host_problem


class Guard:
    """ASGI middleware: the Host allow-list and the security headers."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        problem = host_problem(Headers(scope=scope).get("host"), self.allowed)
        if problem is None:
            await self.app(scope, receive, secured)
            return
        body = json.dumps({"error": problem}).encode()
        head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await secured({"type": "http.response.start", "status": 400, "headers": head})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
