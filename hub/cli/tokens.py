"""`hub tokens add|list|revoke`: the API tokens that open the web server's TAXII API roots and inbox page."""

from __future__ import annotations

import argparse

from hub.errors import InputError
from hub.ledger import Ledger
from hub.ledger.tokens import add, holders, revoke
from hub.settings import Settings
from schemas.common import Side


def _side(text: str) -> Side:
    try:
        return Side(text.upper())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"side {text!r}: EU or NATO") from exc


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub tokens`."""
    tokens = sub.add_parser("tokens", help="API tokens of the organisations that use TAXII and the inbox page")
    tsub = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = tsub.add_parser("add", help="make a token for ORG on SIDE; it is printed once and stored hashed")
    new.add_argument("org", help="the organisation, as its submissions name it in `originator`")
    new.add_argument("side", type=_side, help="EU or NATO")
    new.set_defaults(handler=cmd_add)
    listing = tsub.add_parser("list", help="the tokens' ids, holders and states (never the tokens)")
    listing.set_defaults(handler=cmd_list)
    gone = tsub.add_parser("revoke", help="revoke a token by its id")
    gone.add_argument("token_id", help="the id `hub tokens list` shows")
    gone.set_defaults(handler=cmd_revoke)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    """Make a token and print it once."""
    ledger = Ledger(settings.ledger)
    try:
        holder, token = add(ledger, args.org, args.side.value)
    finally:
        ledger.close()
    print(token)
    print(f"token {holder.token_id} for {holder.org} ({holder.side}); shown once, stored hashed — keep it secret")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the tokens' holders."""
    ledger = Ledger(settings.ledger)
    try:
        rows = holders(ledger)
    finally:
        ledger.close()
    print(f"{'token id':<17} {'side':<5} {'created':<26} {'state':<28} organisation")
    for h in rows:
        state = f"revoked {h.revoked}" if h.revoked else "live"
        print(f"{h.token_id:<17} {h.side:<5} {h.created:<26} {state:<28} {h.org}")
    return 0


def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """Revoke one token."""
    ledger = Ledger(settings.ledger)
    try:
        done = revoke(ledger, args.token_id)
    finally:
        ledger.close()
    if not done:
        raise InputError(f"no live token with id {args.token_id[:40]!r} (see `hub tokens list`)")
    print(f"token {args.token_id} revoked")
    return 0
