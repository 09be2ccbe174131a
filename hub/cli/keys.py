"""`hub keys new` and `hub keys list`: the signing keys registered per organisation and side."""

from __future__ import annotations

import argparse
from pathlib import Path

from hub.config.keystore import hub_signer, load_keyring, new_key
from hub.settings import Settings
from schemas.common import Side


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub keys`."""
    keys = sub.add_parser("keys", help="signing keys of the organisations that publish")
    ksub = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = ksub.add_parser("new", help="make a key pair for an organisation on a side and register its public key")
    new.add_argument("--org", required=True, help="the organisation, as submissions name it in `originator`")
    new.add_argument("--side", required=True, type=Side, choices=list(Side), help="EU or NATO")
    new.add_argument("--dir", type=Path, default=None, help="where to write the private key (default: DATA_DIR/keys)")
    new.set_defaults(handler=cmd_new)
    listing = ksub.add_parser("list", help="the registered keys")
    listing.set_defaults(handler=cmd_list)
    hub = ksub.add_parser("hub", help="make the hub's own signing key if it has none (deliveries, checkpoints)")
    hub.set_defaults(handler=cmd_hub)


def cmd_new(args: argparse.Namespace, settings: Settings) -> int:
    """Make and register a key; print its id and where the private key is."""
    key, path = new_key(settings.keyring, args.dir or settings.data_dir / "keys", args.org, args.side)
    print(f"key {key.key_id} registered for {key.org} ({key.side}) in {settings.keyring}")
    print(f"private key: {path} (keep it secret; publish with HUB_SIGNING__KEY_FILE={path})")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the keyring as a table."""
    ring = load_keyring(settings.keyring)
    print(f"{'key id':<17} {'side':<5} {'created':<26} organisation")
    for k in sorted(ring.keys.values(), key=lambda k: (k.side, k.org)):
        print(f"{k.key_id:<17} {k.side.value:<5} {k.created:<26} {k.org}")
    for h in sorted(ring.hub.values(), key=lambda h: h.key_id):
        print(f"{h.key_id:<17} {'hub':<5} {h.created:<26} the hub itself (signs deliveries and checkpoints)")
    print(f"{len(ring.keys)} key{'s' if len(ring.keys) != 1 else ''} in {settings.keyring}")
    return 0


def cmd_hub(args: argparse.Namespace, settings: Settings) -> int:
    """Make the hub's own key if it has none, and print its id and where it is."""
    signer = hub_signer(settings)
    print(f"hub key {signer.key_id} in {settings.hub_key_file}; its public half is in {settings.keyring}")
    return 0
