"""uvicorn serving one ASGI application on a socket bound before it starts.

Binding first means a port that is taken is one line at start (OSError), port 0 gives a free one
whose address is known before any request, and the same object serves in the foreground (`hub
serve`, where uvicorn turns SIGINT and SIGTERM into a graceful stop and raises the signal again
afterwards, so `hub` ends as interrupted) or in a thread (tests: `serve_forever`, `shutdown`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from hub.errors import ConfigError
from hub.settings import ServeSettings

log = logging.getLogger("hub.web")
STOP_WAIT_S = 10.0  # how long `shutdown` waits for uvicorn to stop
GRACE_S = 3  # seconds: requests in flight get this long to finish on a stop; then their connections are closed
LISTEN_BACKLOG = 128  # pending connections the kernel queues for the server


def _tls(tls: ServeSettings | None) -> dict[str, Any]:
    """uvicorn's TLS arguments: HTTPS with a certificate, and client certificates required with a client CA."""
    if tls is None or tls.tls_certfile is None:
        return {}
    found: dict[str, Any] = {"ssl_certfile": str(tls.tls_certfile), "ssl_keyfile": str(tls.tls_keyfile or "")}
    if tls.tls_client_ca is not None:
        found |= {"ssl_ca_certs": str(tls.tls_client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return found


class WebServer:
    """One ASGI application served by uvicorn on `host:port` (0: any free port)."""

    def __init__(self, app: ASGIApp, host: str, port: int, tls: ServeSettings | None = None) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(LISTEN_BACKLOG)
        except OSError:
            self.socket.close()
            raise
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        # httptools: it parses what the guard must answer itself (a request without Host), where h11 would
        # answer a bare 400 before the application sees it.
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto", http="httptools",
                                timeout_graceful_shutdown=GRACE_S, **_tls(tls))  # fmt: skip
        try:
            config.load()  # the TLS context too: an unreadable certificate is one line now, not a traceback later
        except (OSError, ssl.SSLError, ValueError) as exc:
            self.socket.close()
            raise ConfigError(f"serve.tls_certfile / tls_keyfile / tls_client_ca cannot be used: {exc}") from exc
        self.server = uvicorn.Server(config)
        self._done = threading.Event()

        self.scheme = "https" if tls is not None and tls.tls_certfile is not None else "http"

    @property
    def url(self) -> str:
        """Where the server answers."""
        host, port = self.server_address
        shown = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{shown}:{port}/"

    def serve_forever(self) -> None:
        """Serve until `shutdown` (or, in the main thread, SIGINT or SIGTERM)."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self._done.set()

    def shutdown(self) -> None:
        """Ask the server to stop and wait until it did."""
        self.server.should_exit = True
        deadline = time.monotonic() + STOP_WAIT_S
        while not self._done.wait(0.05) and time.monotonic() < deadline:
            pass

    def server_close(self) -> None:
        """Close the listening socket."""
        with contextlib.suppress(OSError):
            self.socket.close()
