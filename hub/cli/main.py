"""`hub`: the command line. Errors are one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from hub.cli.logs import configure_logging, report_error
from hub.errors import HubError
from hub.settings import Settings, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]
EXIT_ERROR = 2  # usage and configuration errors, as argparse does
EXIT_FAILED = 1  # the command ran and found a problem


def _commands() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    from hub.cli import audit, core, dashboard, demo, files, keys, misp, policy, report, tokens

    return [
        core.register,
        demo.register,
        keys.register,
        policy.register,
        misp.register,
        files.register,
        report.register,
        audit.register,
        dashboard.register,
        tokens.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="hub", description="The EU-NATO exchange hub.")
    parser.add_argument("--config", type=Path, help="TOML config file (environment HUB_* overrides it)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in _commands():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `hub` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings(args.config)
        configure_logging(settings, args.verbose)
        handler: Handler = args.handler
        return handler(args, settings)
    except HubError as exc:
        report_error(f"hub: error: {exc}", settings)
        return EXIT_ERROR if exc.__class__.__name__ in {"ConfigError", "InputError"} else EXIT_FAILED
    except KeyboardInterrupt:
        print("hub: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT, the shell's convention


if __name__ == "__main__":
    sys.exit(main())
