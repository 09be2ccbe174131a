"""`hub files drop|inbox`: the files connectors from the command line, for one-off runs or in the foreground.

`hub files drop DIR --side eu` submits the files dropped in DIR (one envelope or STIX bundle each)
and files them under DIR/done or DIR/rejected; `hub files inbox DIR --side nato` writes the side's
hub-signed deliveries into DIR, one file each. With `--once` each does one run and prints what it
did; without, it runs until interrupted, as under `hub up`.
"""

from __future__ import annotations

import argparse
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
    """Add `hub files` and its actions."""
    files = sub.add_parser("files", help="files connectors: submit a drop directory, write an inbox directory")
    actions = files.add_subparsers(dest="action", required=True, metavar="ACTION")
    drop = actions.add_parser("drop", help="submit the files dropped in DIR, then move them to done/ or rejected/")
    drop.add_argument("--interval", type=float, default=None, help="seconds between two scans (default 2)")
    drop.add_argument("--settle", type=float, default=None, help="seconds a file must be unchanged (default 2)")
    drop.add_argument("--max-file-mib", type=int, default=None, help="largest file taken, MiB (default 64)")
    inbox = actions.add_parser("inbox", help="write the side's deliveries into DIR, one file each")
    inbox.add_argument("--format", choices=("envelope", "stix"), default="envelope", help="what a file holds")
    for p in (drop, inbox):
        p.add_argument("dir", type=Path, metavar="DIR")
        p.add_argument("--side", type=_side, required=True, help="eu or nato: the side whose directory it is")
        p.add_argument("--once", action="store_true", help="one run (until caught up), then exit")
    drop.set_defaults(handler=cmd_drop)
    inbox.set_defaults(handler=cmd_inbox)


def _config(args: argparse.Namespace, role: str) -> ConnectorSettings:
    fields: dict[str, Any] = {"type": "files", "side": args.side, "role": role}
    if role == "source":
        fields["drop_dir"] = args.dir
        given = {"interval_s": args.interval, "settle_s": args.settle, "max_file_mib": args.max_file_mib}
        fields |= {k: v for k, v in given.items() if v is not None}
    else:
        fields |= {"inbox_dir": args.dir, "inbox_format": args.format}
    try:
        return ConnectorSettings(**fields)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        problem = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: {problem}" if where else problem) from exc


def cmd_drop(args: argparse.Namespace, settings: Settings) -> int:
    """Submit a drop directory's files (one run with --once, else every --interval until interrupted)."""
    from connectors.files.drop import shown as shown_name
    from connectors.files.service import check_files_connectors, drop_name, run_drop
    from connectors.progress import Progress
    from connectors.supervise import backoff_cap, run_command
    from hub.cli.core import resolve_bootstrap
    from hub.worker.status import ConnectorHealth

    cfg = _config(args, "source")
    check_files_connectors(settings.model_copy(update={"connectors": [cfg]}))
    bootstrap = resolve_bootstrap(settings)
    health = ConnectorHealth(drop_name(cfg), cfg.side, "source")
    progress = Progress(f"files drop {args.side}")
    try:  # until interrupted without --once, failures logged and retried as under `hub up`
        tally = run_command(
            f"{health.name} drop",
            lambda once: run_drop(cfg, settings, bootstrap, once, health, progress),
            health,
            backoff_cap(cfg),
            args.once,
        )
    finally:
        progress.close()
    if tally is None:
        return 0
    notes = [f"{tally.rejected} rejected (see {cfg.drop_dir}/rejected)"] if tally.rejected else []
    if tally.waiting:
        shown = ", ".join(map(shown_name, tally.names[:3])) + (", …" if len(tally.names) > 3 else "")
        notes.append(f"{tally.waiting} still being written, left for the next run ({shown})")
    if tally.stuck:
        notes.append(f"{tally.stuck} that this process cannot move, left where they are (see the log)")
    note = f"; {'; '.join(notes)}" if notes else ""
    plural = "s" if tally.submitted != 1 else ""
    print(f"submitted {tally.submitted} file{plural} from {args.side} to hub.submitted{note}")
    return 0


def cmd_inbox(args: argparse.Namespace, settings: Settings) -> int:
    """Write a side's deliveries into an inbox directory (until caught up with --once)."""
    from connectors.files.service import check_files_connectors, inbox_name, run_inbox
    from connectors.progress import Progress
    from connectors.supervise import backoff_cap, run_command
    from hub.cli.core import resolve_bootstrap
    from hub.worker.status import ConnectorHealth

    cfg = _config(args, "sink")
    check_files_connectors(settings.model_copy(update={"connectors": [cfg]}))
    bootstrap = resolve_bootstrap(settings)
    health = ConnectorHealth(inbox_name(cfg), cfg.side, "sink")
    progress = Progress(f"files inbox {args.side}")
    try:
        counts = run_command(
            f"{health.name} inbox",
            lambda once: run_inbox(cfg, settings, bootstrap, once, health, progress),
            health,
            backoff_cap(cfg),
            args.once,
        )
    finally:
        progress.close()
    if counts is None:
        return 0
    shown = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("added", "updated", "unchanged", "refused"))
    print(f"applied {sum(counts.values())} deliveries for {args.side} to {args.dir}: {shown}")
    return 0
