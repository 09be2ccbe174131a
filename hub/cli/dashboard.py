"""`hub dashboard`: serve the read-only dashboard, on loopback unless told otherwise."""

from __future__ import annotations

import argparse
import sys

from hub.dashboard.server import DEFAULT_PORT, LOOPBACK, Dashboard
from hub.errors import ConfigError
from hub.ledger import Ledger
from hub.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub dashboard`."""
    dash = sub.add_parser("dashboard", help="serve the read-only dashboard (figures, charts, filters, JSON)")
    dash.add_argument("--host", default=LOOPBACK, help=f"address to bind (default {LOOPBACK}: this machine only)")
    dash.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)")
    dash.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests addressed to NAME (Host header); loopback names always are (repeat)",
    )
    dash.set_defaults(handler=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    """Serve until interrupted."""
    ledger = Ledger(settings.ledger)
    try:
        server = Dashboard(ledger, args.host, args.port, args.allow_host)
    except OSError as exc:
        ledger.close()
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    if args.host != LOOPBACK:
        print(f"hub: warning: the dashboard is reachable from other machines on {args.host}", file=sys.stderr)
    print(f"dashboard at {server.url} (read-only; Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        ledger.close()
    return 0
