"""`hub audit verify|list|refusals`: prove the ledger, list the exchanges behind any figure, and what peers refused."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from hub.audit import refusals
from hub.audit.listing import CHOICES, filters, listed, write_csv, write_json
from hub.audit.verify import parse_anchor, verify
from hub.cli.core import resolve_bootstrap
from hub.cli.report import output
from hub.config.keystore import load_keyring
from hub.core.route import CHECKPOINTS
from hub.errors import ConfigError
from hub.kafka.topics import read_all
from hub.ledger import Ledger
from hub.ledger.checkpoints import parse
from hub.ledger.checkpoints import read as read_checkpoints
from hub.report.period import parse_day
from hub.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub audit verify` and `hub audit list`."""
    audit = sub.add_parser("audit", help="verify the ledger, list the records behind a figure")
    asub = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    ver = asub.add_parser(
        "verify",
        help="check the hash chain against the hub's signed checkpoints, the dedupe state and the counts",
        description="Exits 1 naming the first bad record when a record was edited, deleted or inserted by hand. "
        "Checks every checkpoint in the worker's checkpoint file (checkpoints.file) and in each --checkpoints FILE.",
    )
    ver.add_argument("--anchor", metavar="SEQ:HASH", help="also check that record SEQ still has HASH (from a report)")
    ver.add_argument(
        "--checkpoints",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="signed checkpoints kept elsewhere (JSON lines, as the worker writes them or hub.checkpoints holds them)",
    )
    ver.add_argument("--topic", action="store_true", help="also check every checkpoint on the hub.checkpoints topic")
    ver.set_defaults(handler=cmd_verify)
    lst = asub.add_parser("list", help="the records behind a figure, with ids, originator, time, decision, reason")
    for dim, values in CHOICES.items():
        lst.add_argument(
            f"--{dim}", action="append", metavar="VALUE", help=f"one of {', '.join(values)} (repeat or comma-separate)"
        )
    lst.add_argument("--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD (UTC)")
    lst.add_argument("--to", dest="last", metavar="DATE", help="last day, YYYY-MM-DD (UTC), inclusive")
    lst.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")
    lst.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    lst.set_defaults(handler=cmd_list)
    ref = asub.add_parser(
        "refusals",
        help="deliveries the hub made that a destination refused, and events a source could not submit",
        description="Each line: when, which connector and side, sink (refused by the destination) or source "
        "(not submitted), the event and version, the hub's submission id, where it was read, and the reason.",
    )
    ref.add_argument("--side", choices=("EU", "NATO"), type=str.upper, help="the side whose peer refused")
    ref.add_argument("--role", choices=("sink", "source"), help="sink: refused by the destination; source: not sent")
    ref.add_argument("--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD (UTC)")
    ref.add_argument("--to", dest="last", metavar="DATE", help="last day, YYYY-MM-DD (UTC), inclusive")
    ref.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")
    ref.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    ref.set_defaults(handler=cmd_refusals)


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Verify the ledger; exit 0 with a summary, or fail naming the first bad record."""
    anchor = parse_anchor(args.anchor) if args.anchor else None
    files = [*([settings.checkpoint_file] if settings.checkpoint_file.is_file() else []), *args.checkpoints]
    checkpoints = [c for path in dict.fromkeys(files) for c in read_checkpoints(path)]
    if args.topic:
        messages = asyncio.run(read_all(settings.kafka, resolve_bootstrap(settings), CHECKPOINTS))
        checkpoints += [parse(value, f"{CHECKPOINTS}:{offset}") for offset, value in messages]
    keyring = load_keyring(settings.keyring)
    if checkpoints and not keyring.hub:
        raise ConfigError(f"keyring {settings.keyring} holds no hub key to check the checkpoints with")
    ledger = Ledger(settings.ledger)
    try:
        result = verify(ledger, anchor, checkpoints, keyring)
    finally:
        ledger.close()
    seq, digest = result.head
    print(f"ledger verified: {result.records} records chained from seq 1 to {seq}; head {seq}:{digest}")
    if result.chains > 1:
        print(f"{result.chains} hash chains, one per partition of hub.submitted, each whole and matching its head")
    if checkpoints:
        last = max(checkpoints, key=lambda c: c.seq)
        print(f"{len(checkpoints)} checkpoints signed by the hub hold (the last: seq {last.seq} at {last.at})")
    else:
        print("no signed checkpoint given or found: a rewrite re-hashed to the head cannot be told from the original")
    print(f"dedupe state equals a recomputation from the records ({result.items} items)")
    print(f"live counts equal a recount from the ledger ({result.count_rows} rows)")
    if anchor is not None:
        print(f"anchor {anchor[0]}:{anchor[1][:12]}... is in the chain")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """List the matching records as CSV or JSON."""
    f = filters({dim: getattr(args, dim) for dim in CHOICES}, args.first, args.last)
    ledger = Ledger(settings.ledger)
    try:
        with output(args.out) as out:
            lines = listed(ledger, f)
            n = write_json(lines, f, out) if args.format == "json" else write_csv(lines, out)
    finally:
        ledger.close()
    if args.out is not None:
        print(f"wrote {n} record{'s' if n != 1 else ''} to {args.out}", file=sys.stderr)
    return 0


def cmd_refusals(args: argparse.Namespace, settings: Settings) -> int:
    """List the recorded refusals as CSV or JSON."""
    first = parse_day(args.first, "from").isoformat() if args.first else None
    last = parse_day(args.last, "to").isoformat() if args.last else None
    match = {"side": args.side, "role": args.role}
    ledger = Ledger(settings.ledger)
    try:
        with output(args.out) as out:
            lines = refusals.listed(ledger, first, last, **match)
            if args.format == "json":
                n = refusals.write_json(lines, {**match, "from": first, "to": last}, out)
            else:
                n = refusals.write_csv(lines, out)
    finally:
        ledger.close()
    if args.out is not None:
        print(f"wrote {n} refusal{'s' if n != 1 else ''} to {args.out}", file=sys.stderr)
    return 0
