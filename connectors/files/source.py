"""The drop loop: claim complete files, check them, submit them signed, then file them under done/ or rejected/.

One pass takes every complete file, oldest first. A file is claimed (moved into processing/),
read, and checked; an unusable one is recorded as refused (`hub audit refusals`) and moved to
rejected/ with its reason. The others are published in batches under their stable submission ids
(`dropped.submission_id`), and moved to done/ only once the broker acknowledged them. A crash at
any point leaves each file in the drop directory, in processing/ (taken up first by the next pass,
and sent again under the same id: a replay the hub decides once), in done/ or in rejected/.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from connectors.files.drop import DropDir, Unusable
from connectors.files.dropped import Submission, submission_id, submission_of
from connectors.progress import Progress
from connectors.refusals import RefusalLog
from hub.core.validate import ItemLimits
from hub.errors import Oversized
from hub.files import MIB
from hub.kafka.publisher import Publisher
from hub.worker.status import ConnectorHealth
from schemas.common import Side

log = logging.getLogger("hub.files")
BATCH_FILES = 200  # submissions per acknowledged publish: one round trip per 200 files
BATCH_BYTES = 32 * MIB  # ... or fewer, so a run of large files does not pile up in memory


@dataclass(frozen=True)
class Ready:
    """A claimed file, checked, with its submission."""

    name: str
    sid: str
    submission: Submission


@dataclass
class Tally:
    """What passes did with the files: submitted, rejected, and those still being written at the last pass."""

    submitted: int = 0
    rejected: int = 0
    waiting: int = 0
    names: list[str] = field(default_factory=list)  # the files still waiting, for a one-off run's message


class DropSource:
    """Submits the files of one drop directory, signed by `publisher`, for `side`."""

    def __init__(
        self,
        drop: DropDir,
        side: Side,
        limits: ItemLimits,
        publisher: Publisher,
        refusals: RefusalLog,
        health: ConnectorHealth,
    ) -> None:
        self.drop = drop
        self.side = side
        self.limits = limits
        self.publisher = publisher
        self.refusals = refusals
        self.health = health
        self.key_id: str | None = getattr(publisher.signer, "key_id", None)
        self.where = str(drop.path.resolve())

    async def run_pass(self, tally: Tally, progress: Progress | None = None) -> None:
        """Take every complete file once; counts go to `tally` (its `waiting` is this pass's)."""
        tally.waiting, tally.names = 0, []
        batch: list[Ready] = []
        size = 0
        for where, name in await asyncio.to_thread(self.drop.scan):
            taken = await asyncio.to_thread(self._take, where, name)
            if taken is None:
                tally.waiting += 1
                tally.names.append(name)
            elif isinstance(taken, Unusable):
                await self._reject(taken, tally)
            else:
                batch.append(taken)
                size += len(taken.submission.raw)
                if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
                    await self._submit(batch, tally)
                    batch, size = [], 0
            if progress is not None:
                progress.update(tally.submitted + tally.rejected)
        await self._submit(batch, tally)
        await asyncio.to_thread(self.drop.sync)
        self.health.skipped = tally.waiting

    def _take(self, where: Path, name: str) -> Ready | Unusable | None:
        """Claim, read and check one file (in a thread): Ready, Unusable, or None while it is being written."""
        claimed = self.drop.claim(where, name)
        if not isinstance(claimed, str):
            return claimed
        data = self.drop.read(claimed)
        if not isinstance(data, bytes):
            return data
        found = submission_of(data, self.side, self.limits)
        if isinstance(found, str):
            return Unusable(self.drop.processing, claimed, found)
        return Ready(claimed, submission_id(self.where, claimed, data, self.key_id), found)

    async def _submit(self, batch: list[Ready], tally: Tally) -> None:
        """Publish `batch`; once acknowledged, move each file to done/ (those too large for the broker to rejected/)."""
        if not batch:
            return
        too_large: set[int] = set()
        try:
            await self.publisher.publish([r.submission.raw for r in batch], [r.sid for r in batch])
        except Oversized as exc:
            too_large = set(exc.indexes)
        for i, ready in enumerate(batch):
            if i in too_large:
                size = len(ready.submission.raw)
                reason = f"is {size:,} bytes as a submission, more than the broker accepts"
                await self._reject(Unusable(self.drop.processing, ready.name, reason), tally)
                continue
            final = await asyncio.to_thread(self.drop.file_done, ready.name)
            log.info("submitted %s (%s) as %s; moved to done/%s", ready.name, ready.submission.item, ready.sid, final)
        done = len(batch) - len(too_large)
        tally.submitted += done
        self.health.submitted += done

    async def _reject(self, item: Unusable, tally: Tally) -> None:
        """Record why `item` is never submitted, then move it to rejected/ beside its reason."""
        where = self.drop.path / item.name
        await self.refusals.record("source", item.reason, item=item.name, location=str(where))
        await asyncio.to_thread(self.drop.file_rejected, item)
        tally.rejected += 1
        self.health.refused += 1
