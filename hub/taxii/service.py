"""What the TAXII routes share: the ledger behind a lock, the organisations' signing keys, and one publisher.

The server signs submissions for the organisations registered to it: each private key in its keys
directory (`serve.keys_dir`, by default `HUB_DATA_DIR/keys`, where `hub keys new` writes them)
whose key id the keyring lists for an organisation and side. A POST authenticated by a token of
that organisation is signed with that key; an organisation whose key the server does not hold can
read its inbox but not submit. The hub's own key is never used to submit.

The ledger connection is synchronous and not for concurrent use: every database call runs in a
worker thread under one lock. The publisher to `hub.submitted` is started on the first
submission, so the server starts, and serves reads, while no broker runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import anyio

from hub.config.keystore import load_keyring, read_private_key
from hub.core.keys import key_id, org_key
from hub.core.signing import Signer, SignerSet
from hub.errors import ConfigError
from hub.kafka.publisher import Publisher
from hub.ledger import Ledger
from hub.settings import Settings

log = logging.getLogger("hub.taxii")
T = TypeVar("T")


def org_signers(keys_dir: Path, keyring: Path, hub_key: Path) -> dict[tuple[str, str], Signer]:
    """(side, organisation casefolded) -> signer, for each private key in `keys_dir` the keyring registers."""
    ring = load_keyring(keyring)
    found: dict[tuple[str, str], Signer] = {}
    if not keys_dir.is_dir():
        return found
    for path in sorted(keys_dir.glob("*.pem")):
        if path.resolve() == hub_key.resolve() or path.is_symlink():
            continue
        try:
            private = read_private_key(path)
        except ConfigError as exc:
            log.warning("%s; not used to sign submissions", exc)
            continue
        registered = ring.keys.get(key_id(private.public_key()))
        if registered is not None:
            found[(registered.side.value, org_key(registered.org))] = Signer.of(private)
    return found


class Service:
    """The ledger (under a lock), the signing keys and the publisher the TAXII routes use."""

    def __init__(self, settings: Settings, ledger: Ledger, bootstrap: Callable[[], str]) -> None:
        self.settings = settings
        self.ledger = ledger
        self.lock = threading.Lock()
        keys_dir = settings.serve.keys_dir or settings.data_dir / "keys"
        self.signers = org_signers(keys_dir, settings.keyring, settings.hub_key_file)
        self.bootstrap = bootstrap
        self._publisher: Publisher | None = None
        self._starting = asyncio.Lock()
        self.keys_dir = keys_dir
        log.debug("TAXII: signing keys held for %d organisations (from %s)", len(self.signers), keys_dir)

    def can_sign(self, side: str, org: str) -> bool:
        """Whether the server holds `org`'s signing key on `side`."""
        return (side, org_key(org)) in self.signers

    async def db(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(ledger, *args)` in a thread, under the lock."""

        def locked() -> T:
            with self.lock:
                return fn(self.ledger, *args)

        return await anyio.to_thread.run_sync(locked)

    async def publish(self, items: Sequence[bytes], sids: Sequence[str]) -> None:
        """Sign each item with its originator's key and publish, waiting for the broker's acknowledgement."""
        async with self._starting:
            if self._publisher is None:
                signer = SignerSet.of(self.signers) if self.signers else None
                publisher = Publisher(self.settings.kafka, self.bootstrap(), signer=signer)
                self._publisher = await publisher.__aenter__()
        await self._publisher.publish(list(items), list(sids))

    async def close(self) -> None:
        """Stop the publisher, if it was started."""
        if self._publisher is not None:
            await self._publisher.__aexit__(None, None, None)
            self._publisher = None
