"""The drop loop: claim complete files, check them, submit them signed, then file them under done/ or rejected/.

One pass takes every complete file, oldest first. A file is claimed (moved into processing/),
read, and checked; an unusable one is moved to rejected/ beside its reason, then recorded as
refused (`hub audit refusals`). The others are published in batches under their stable submission
ids (`dropped.submission_id`), and moved to done/ only once the broker acknowledged them. A crash
at any point leaves each file in the drop directory, in processing/ (taken up first by the next
pass, and sent again under the same id: a replay the hub decides once), in done/ or in rejected/.
A file this process cannot move (another user's file in a sticky directory, an immutable one) is
left where it is, said once in the log, and the files behind it go on.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from connectors.files.drop import DropDir, Unusable, shown
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
    """What passes did with the files: submitted, rejected; at the last pass, those being written and those stuck."""

    submitted: int = 0
    rejected: int = 0
    waiting: int = 0  # still being written: taken by a later pass
    stuck: int = 0  # cannot be moved by this process (permissions, an immutable file): left, and said in the log
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
        self.stuck: set[str] = set()  # files that could not be moved, each warned about once

    async def run_pass(self, tally: Tally, progress: Progress | None = None) -> None:
        """Take every complete file once; counts go to `tally` (its `waiting` is this pass's)."""
        tally.waiting, tally.stuck, tally.names = 0, 0, []
        batch: list[Ready] = []
        size = 0
        for where, name in await asyncio.to_thread(self.drop.scan):
            taken = await asyncio.to_thread(self._take, where, name)
            if taken is None:
                tally.waiting += 1
                tally.names.append(name)
            elif isinstance(taken, OSError):
                self._stuck(name, taken, tally)
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
        self.health.skipped = tally.waiting + tally.stuck

    def _take(self, where: Path, name: str) -> Ready | Unusable | OSError | None:
        """Claim, read and check one file (in a thread); None while it is written, OSError when it cannot be moved."""
        try:
            claimed = self.drop.claim(where, name)
        except OSError as exc:
            return exc
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
            item, sid = ready.submission.item, ready.sid
            log.info("submitted %s (%s) as %s; moved to done/%s", shown(ready.name), item, sid, shown(final))
        done = len(batch) - len(too_large)
        tally.submitted += done
        self.health.submitted += done

    async def _reject(self, item: Unusable, tally: Tally) -> None:
        """Move `item` to rejected/ beside its reason, then record the refusal (`hub audit refusals`)."""
        try:
            await asyncio.to_thread(self.drop.file_rejected, item)
        except OSError as exc:
            self._stuck(item.name, exc, tally)
            return
        where = self.drop.path / item.name
        await self.refusals.record("source", item.reason, item=shown(item.name), location=shown(str(where)))
        tally.rejected += 1
        self.health.refused += 1

    def _stuck(self, name: str, exc: OSError, tally: Tally) -> None:
        """A file this process cannot move (another user's, in a sticky directory): left, said once, the rest go on."""
        tally.stuck += 1
        if name not in self.stuck:
            self.stuck.add(name)
            log.warning("cannot move %s out of %s (%s): left where it is", shown(name), self.drop.path, exc.strerror)
