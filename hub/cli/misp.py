"""`hub misp pull|push|feed-import|feed-export`: the MISP connectors from the command line.

The API key never appears on the command line, where `ps` shows it to every user of the machine:
it comes from `--key-file FILE` or the environment (`HUB_MISP_KEY`), and `--key KEY` is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub.errors import ConfigError
from hub.settings import ConnectorSettings, Settings

ARGV_KEY_REFUSED = (
    "--key would show the MISP API key to every user of this machine (ps, /proc); "
    "give --key-file FILE or set HUB_MISP_KEY"
)


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
        p.add_argument("--url", required=True, help="MISP base URL (https://)")
        p.add_argument("--key-file", type=Path, help="file holding the MISP API key (default: HUB_MISP_KEY)")
        p.add_argument("--key", help=argparse.SUPPRESS)  # refused: see ARGV_KEY_REFUSED
        p.add_argument("--ca-bundle", type=Path, help="PEM file of the CAs that sign the MISP's certificate")
        p.add_argument("--insecure", action="store_true", help="do not verify the server's TLS certificate")
        p.add_argument("--allow-http", action="store_true", help="accept a plain http:// URL")
        p.add_argument("--timeout", type=float, default=300.0, help="longest wait for one answer, s (default 300)")
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


def _config(args: argparse.Namespace, role: str, settings: Settings) -> ConnectorSettings:
    fields: dict[str, Any] = {"type": args.connector, "side": args.side, "role": role}
    if args.connector == "rest":
        fields |= {"url": args.url, "verify_tls": not args.insecure, "allow_http": args.allow_http}
        fields |= {"ca_bundle": args.ca_bundle, "timeout_s": args.timeout, **_key(args, settings)}
    else:
        fields["dir"] = args.dir
        fields["distribution"] = getattr(args, "distribution", 3)
    if role == "source":
        fields["interval_s"] = args.interval
    try:
        return ConnectorSettings(**fields)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        problem = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: {problem}" if where else problem) from exc


def _key(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Where the API key comes from: --key-file, else HUB_MISP_KEY; never the command line."""
    if args.key is not None:
        raise ConfigError(ARGV_KEY_REFUSED)
    if args.key_file is not None:
        return {"key_file": args.key_file}
    if settings.misp_key is not None:
        return {"key": settings.misp_key}
    raise ConfigError("no MISP API key: give --key-file FILE or set HUB_MISP_KEY")


def cmd_source(args: argparse.Namespace, settings: Settings) -> int:
    """Pull a MISP instance or a feed directory into the hub (once, or every --interval)."""
    from connectors.misp.service import client_for, peer_id, run_source
    from connectors.progress import Progress
    from connectors.supervise import backoff_cap, run_command
    from hub.cli.core import resolve_bootstrap
    from hub.worker.status import ConnectorHealth

    cfg = _config(args, "source", settings)
    if cfg.type == "feed" and not (Path(str(cfg.dir)) / "manifest.json").exists():
        raise ConfigError(f"{cfg.dir} has no manifest.json: it is not a MISP feed directory")
    if cfg.type == "rest":
        asyncio.run(_check(client_for(cfg)))  # a wrong URL, key or certificate fails here, first
    bootstrap = resolve_bootstrap(settings)
    health = ConnectorHealth(peer_id(cfg), cfg.side, "source")
    progress = Progress(f"misp {args.action} {args.side}")
    try:  # until interrupted without --once, failures logged and retried as under `hub up`
        submitted = run_command(
            f"{health.name} source",
            lambda once: run_source(cfg, settings, bootstrap, once, health, progress),
            health,
            backoff_cap(cfg),
            args.once,
        )
    finally:
        progress.close()
    if submitted is None:
        return 0
    notes = [f"{health.refused} refused (see hub audit refusals)"] if health.refused else []
    if health.skipped:
        notes.append(f"{health.skipped} unreadable events skipped (tried again next pass)")
    note = f"; {'; '.join(notes)}" if notes else ""
    print(f"submitted {submitted} MISP event{'s' if submitted != 1 else ''} from {args.side} to hub.submitted{note}")
    if health.skipped and cfg.type == "feed":  # the others went in; the operator must see what did not
        names = "; ".join(health.skipped_names) or f"{health.skipped} unnamed"
        print(f"hub: skipped {health.skipped} unreadable feed file(s) in {cfg.dir}: {names}", file=sys.stderr)
        return 1
    return 0


async def _check(client: Any) -> None:
    try:
        await client.check()
    finally:
        await client.close()


def cmd_sink(args: argparse.Namespace, settings: Settings) -> int:
    """Apply a side's deliveries to its MISP or feed directory (until caught up with --once)."""
    from connectors.misp.service import client_for, peer_id, run_sink
    from connectors.progress import Progress
    from connectors.supervise import backoff_cap, run_command
    from hub.cli.core import resolve_bootstrap
    from hub.worker.status import ConnectorHealth

    cfg = _config(args, "sink", settings)
    if cfg.type == "rest":
        asyncio.run(_check(client_for(cfg)))
    bootstrap = resolve_bootstrap(settings)
    health = ConnectorHealth(peer_id(cfg), cfg.side, "sink")
    progress = Progress(f"misp {args.action} {args.side}")
    try:
        counts = run_command(
            f"{health.name} sink",
            lambda once: run_sink(cfg, settings, bootstrap, once, health, progress),
            health,
            backoff_cap(cfg),
            args.once,
        )
    finally:
        progress.close()
    if counts is None:
        return 0
    shown = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("added", "updated", "unchanged", "skipped", "refused"))
    print(f"applied {sum(counts.values())} deliveries to {args.side}: {shown}")
    return 0
