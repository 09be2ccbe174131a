"""The sinks' gate: a delivery is applied only when the hub signed it for this side's inbox.

Anyone who can write `<side>.inbox` could otherwise put anything into a side's MISP or feed. Every
inbox message goes through `InboxGate.open` before a sink sees it: it must carry the hub's signature
(`hub.core.delivery.verify_delivery`, a hub key of the keyring) over this side, its submission id
and its exact bytes, and be a JSON object. Anything else is refused with a logged reason, counted,
and skipped; the deliveries behind it are applied. A key id the keyring does not know makes the
gate read the keyring again (at most every few seconds), so a hub key made or rotated while a sink
runs is picked up.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.config.keystore import load_keyring
from hub.core.delivery import verify_delivery
from hub.core.keys import HubKey
from hub.core.route import SID_HEADER
from hub.core.signing import KEY_HEADER
from hub.errors import ConfigError
from schemas.common import Side

log = logging.getLogger("hub.misp")
RELOAD_EVERY_S = 5.0  # an unknown hub key id re-reads the keyring at most this often: a flood costs no file reads


@dataclass(frozen=True)
class Refused:
    """An inbox message the sink must not apply, and why."""

    submission_id: str
    reason: str


class InboxGate:
    """Opens the deliveries of one side's inbox: the hub-signed ones as envelopes, the rest as refusals."""

    def __init__(self, keyring: Path, side: Side) -> None:
        self.keyring = keyring
        self.side = side
        self.refused = 0
        self._keys: dict[str, HubKey] = {}
        self._read_at = -RELOAD_EVERY_S
        self._reload()
        if not self._keys:
            log.warning("keyring %s holds no hub key: every delivery will be refused until it does", keyring)

    def _reload(self) -> None:
        if time.monotonic() - self._read_at < RELOAD_EVERY_S:
            return
        self._read_at = time.monotonic()
        try:
            self._keys = dict(load_keyring(self.keyring).hub)
        except ConfigError as exc:
            log.error("%s; deliveries are refused until the keyring can be read", exc)

    def open(self, value: bytes | None, headers: Iterable[tuple[str, bytes | None]]) -> dict[str, Any] | Refused:
        """The delivered envelope, or why this message is refused (logged and counted)."""
        pairs = [(str(k), bytes(v or b"")) for k, v in headers]
        raw = value or b""
        kid = next((v.decode("utf-8", "replace") for k, v in pairs if k == KEY_HEADER), None)
        if kid is not None and kid not in self._keys:
            self._reload()
        problem = verify_delivery(self._keys, self.side.value, raw, pairs)
        if problem is None:
            try:
                doc = json.loads(raw)
            except (ValueError, RecursionError):
                doc = None
            problem = None if isinstance(doc, dict) else "not a JSON object, though signed by the hub"
            if problem is None:
                return doc  # type: ignore[no-any-return]  # checked to be a dict just above
        sid = next((v.decode("utf-8", "replace")[:80] for k, v in pairs if k == SID_HEADER), "?")
        self.refused += 1
        log.warning("refused a message on %s.inbox (submission %s): %s", self.side.value.lower(), sid, problem)
        return Refused(sid, problem)
