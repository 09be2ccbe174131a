"""`hub misp pull|push|feed-import|feed-export`: the MISP connectors from the command line."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.errors import ConfigError
from hub.settings import ConnectorSettings, Settings


def _side(value: str) -> str:
    side = value.upper()
    if side not in ("EU", "NATO"):
        raise argparse.ArgumentTypeError(f"{value!r} is not one of eu, nato")
    return side


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub misp` and its actions."""
    misp = sub.add_parser("misp", help="MISP connectors: pull or push over the REST API, import or export feeds")
    actions = misp.add_subparsers(dest="action", required=True, metavar="ACTION")
    pull = actions.add_parser("pull", help="pull published events from a side's MISP into the hub")
    push = actions.add_parser("push", help="apply the hub's deliveries for a side to that side's MISP")
    for p in (pull, push):
        p.add_argument("--url", required=True, help="MISP base URL")
        p.add_argument("--key", required=True, help="MISP API key")
        p.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
    feed_import = actions.add_parser("feed-import", help="submit the new and changed events of a feed directory")
    feed_import.add_argument("--distribution", type=int, default=3, choices=range(5), help="for events without one")
    feed_export = actions.add_parser("feed-export", help="write the hub's deliveries for a side into a feed directory")
    for p in (feed_import, feed_export):
        p.add_argument("dir", type=Path, metavar="DIR")
    for p in (pull, push, feed_import, feed_export):
        p.add_argument("--side", type=_side, required=True, help="eu or nato: the side that owns the MISP or feed")
        p.add_argument("--once", action="store_true", help="one pass (until caught up), then exit")
    for p in (pull, feed_import):
        p.add_argument("--interval", type=float, default=60.0, help="seconds between pulls (default 60)")
    pull.set_defaults(handler=cmd_source, connector="rest")
    feed_import.set_defaults(handler=cmd_source, connector="feed")
    push.set_defaults(handler=cmd_sink, connector="rest")
    feed_export.set_defaults(handler=cmd_sink, connector="feed")


def _config(args: argparse.Namespace, role: str) -> ConnectorSettings:
    fields: dict[str, Any] = {"type": args.connector, "side": args.side, "role": role}
    if args.connector == "rest":
        fields |= {"url": args.url, "key": args.key, "verify_tls": not args.insecure}
    else:
        fields["dir"] = args.dir
        fields["distribution"] = getattr(args, "distribution", 3)
    if role == "source":
        fields["interval_s"] = args.interval
    try:
        return ConnectorSettings(**fields)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        raise ConfigError(f"{'.'.join(str(p) for p in err['loc']) or 'connector'}: {err['msg']}") from exc


def cmd_source(args: argparse.Namespace, settings: Settings) -> int:
    """Pull a MISP instance or a feed directory into the hub (once, or every --interval)."""
    from connectors.misp.rest_source import RestSource
    from connectors.misp.service import build_source, run_source
    from connectors.progress import Progress
    from hub.cli.core import resolve_bootstrap

    cfg = _config(args, "source")
    source = build_source(cfg, settings)
    if isinstance(source, RestSource):
        asyncio.run(asyncio.to_thread(lambda: source.client.api))  # a wrong URL or key fails here, first
    bootstrap = resolve_bootstrap(settings)
    progress = Progress(f"misp {args.action} {args.side}")
    try:
        submitted = asyncio.run(run_source(source, settings, bootstrap, cfg.interval_s, args.once, progress))
    finally:
        progress.close()
    broken = getattr(source, "broken", 0)
    note = f"; {broken} unreadable event files skipped" if broken else ""
    print(f"submitted {submitted} MISP event{'s' if submitted != 1 else ''} from {args.side} to hub.submitted{note}")
    return 0


def cmd_sink(args: argparse.Namespace, settings: Settings) -> int:
    """Apply a side's deliveries to its MISP or feed directory (until caught up with --once)."""
    from connectors.misp.service import build_sink, peer_id, run_sink
    from connectors.progress import Progress
    from hub.cli.core import resolve_bootstrap

    cfg = _config(args, "sink")
    sink = build_sink(cfg)
    bootstrap = resolve_bootstrap(settings)
    progress = Progress(f"misp {args.action} {args.side}")
    try:
        counts: Counter[str] = asyncio.run(run_sink(sink, settings, bootstrap, peer_id(cfg), args.once, progress))
    finally:
        progress.close()
    shown = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("added", "updated", "unchanged", "skipped", "refused"))
    print(f"applied {sum(counts.values())} deliveries to {args.side}: {shown}")
    return 0
