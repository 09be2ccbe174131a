"""The worker's signed checkpoints: the ledger's heads (every chain's) signed every N records or T seconds.

Each checkpoint goes to the append-only file (`checkpoints.file`, outside the database) at once, and
to the `hub.checkpoints` topic with the batch's other outputs. Several workers sharing a ledger each
sign the head they see; any checkpoint of the chain serves `hub audit verify`.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from hub.core.route import CHECKPOINTS, Output
from hub.core.signing import Signer
from hub.ledger import Ledger
from hub.ledger.checkpoints import append, sign
from hub.settings import Settings

log = logging.getLogger("hub.worker")
CHECKPOINT_KEY = b"hub"  # one key: the topic's single partition keeps checkpoints in the order they were signed


class Checkpointer:
    """Decides when the head is due a checkpoint, signs it, and appends it to the file."""

    def __init__(self, settings: Settings, signer: Signer) -> None:
        self.every = settings.checkpoints.every
        self.interval_s = settings.checkpoints.interval_s
        self.path = settings.checkpoint_file
        self.signer = signer
        self.signed_seq = 0
        self.signed_at = time.monotonic()

    def due(self, head_seq: int) -> bool:
        """True after `every` new records, or `interval_s` seconds with at least one."""
        new = head_seq - self.signed_seq
        return new >= self.every or (new > 0 and time.monotonic() - self.signed_at >= self.interval_s)

    def checkpoint(self, ledger: Ledger) -> Output | None:
        """Sign the ledger's head if it is due (in the ledger's thread); the message for the topic, or None."""
        seq, digest = ledger.head()
        if not self.due(seq):
            return None
        made = sign(self.signer, seq, digest, datetime.now(UTC), ledger.heads())
        append(self.path, made)
        self.signed_seq, self.signed_at = seq, time.monotonic()
        log.debug("checkpoint: seq %d signed with hub key %s", seq, self.signer.key_id)
        return Output(CHECKPOINTS, CHECKPOINT_KEY, made.line().encode(), ())
