"""`hub report`: the period's figures beside the previous period's, in English or French."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from hub.errors import InputError
from hub.ledger import Ledger
from hub.report import FORMATS, build, render, resolve
from hub.report.language import LANGS
from hub.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub report`."""
    report = sub.add_parser(
        "report",
        help="counts per area, kind, direction and decision for a period, beside the previous one",
        description="Without dates: the current half-year of the progress reports (1 June-30 November or "
        "1 December-31 May). With --from only: up to today. With --to only: from the start of its half-year.",
    )
    report.add_argument("--from", dest="first", metavar="DATE", help="first day, YYYY-MM-DD (UTC)")
    report.add_argument("--to", dest="last", metavar="DATE", help="last day, YYYY-MM-DD (UTC), inclusive")
    report.add_argument("--lang", choices=LANGS, default="en", help="language of the text (default en)")
    report.add_argument("--format", choices=FORMATS, default="md", help="output format (default md)")
    report.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    report.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Build the report from the ledger and print or write it."""
    today = datetime.now(UTC).date()
    period = resolve(args.first, args.last, today)
    ledger = Ledger(settings.ledger)
    try:
        figures = build(ledger, period, today)
    finally:
        ledger.close()
    text = render(figures, args.format, args.lang)
    with output(args.out) as out:
        out.write(text)
    if args.out is not None:
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


@contextlib.contextmanager
def output(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or FILE opened for writing; a reader that stops early (`| head`) is not an error."""
    try:
        if path is None:
            yield sys.stdout
            sys.stdout.flush()
            return
        with path.open("w", encoding="utf-8", newline="") as out:
            yield out
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point stdout at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:
        raise InputError(str(exc.strerror), item=f"--out {path}") from exc
