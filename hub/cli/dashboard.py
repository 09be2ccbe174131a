"""`hub serve` (and its alias `hub dashboard`): the one web server, on loopback unless told otherwise.

It serves the read-only dashboard, the TAXII 2.1 server and the inbox page from one ASGI
application (`hub.web.app`). Host, port and allowed names come from the options or the `[serve]`
settings; with `serve.tls_certfile` it speaks HTTPS, and with `serve.tls_client_ca` it also
requires a client certificate signed by those CAs (mutual TLS).
"""

from __future__ import annotations

import argparse
import sys

from hub.dashboard.server import LOOPBACK
from hub.errors import ConfigError
from hub.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub serve` and `hub dashboard`."""
    for name, text in (
        ("serve", "serve the dashboard, the TAXII 2.1 server and the inbox page (one web server)"),
        ("dashboard", "the same as `hub serve` (the dashboard is one of its pages)"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--host", default=None, help=f"address to bind (default {LOOPBACK}: this machine only)")
        cmd.add_argument("--port", type=int, default=None, help="port (default 8074; 0: any free)")
        cmd.add_argument(
            "--allow-host",
            action="append",
            default=[],
            metavar="NAME",
            help="also answer requests addressed to NAME (Host header); loopback names always are (repeat)",
        )
        cmd.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted."""
    # Imported here: the web application brings misp-stix (~1.7 s), which no other command needs.
    from hub.cli.core import resolve_bootstrap
    from hub.ledger import Ledger
    from hub.web.app import web_app
    from hub.web.server import WebServer

    serve = settings.serve.model_copy(
        update={
            "host": args.host or settings.serve.host,
            "port": settings.serve.port if args.port is None else args.port,
            "allow_hosts": [*settings.serve.allow_hosts, *args.allow_host],
        }
    )
    settings = settings.model_copy(update={"serve": serve})
    figures, taxii = Ledger(settings.ledger), Ledger(settings.ledger)
    app, service = web_app(settings, figures, taxii, lambda: resolve_bootstrap(settings))
    try:
        server = WebServer(app, serve.host, serve.port, tls=serve)
    except (OSError, ConfigError) as exc:
        figures.close()
        taxii.close()
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"cannot listen on {serve.host}:{serve.port}: {exc.strerror}") from exc
    if serve.host != LOOPBACK:
        print(f"hub: warning: the web server is reachable from other machines on {serve.host}", file=sys.stderr)
    url = server.url
    if args.command == "dashboard":
        print(f"dashboard at {url} (read-only; TAXII {url}taxii2/, inbox {url}inbox/; Ctrl-C to stop)", flush=True)
    else:
        print(f"serving at {url}: dashboard /, TAXII 2.1 /taxii2/, inbox page /inbox/ (Ctrl-C to stop)")
        orgs = ", ".join(sorted(f"{org} ({side})" for side, org in service.signers)) or "none"
        print(f"submissions signed for: {orgs} (private keys in {service.keys_dir})", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        figures.close()
        taxii.close()
    return 0
