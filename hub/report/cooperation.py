"""Cooperation figures read from the ledger: exchanges per common proposal, and paired assessments.

The progress reports are organised by the 74 common proposals and count the "parallel and
coordinated assessments" of the EU Hybrid Fusion Cell and NATO's Hybrid Analysis Branch. Both are
read from the records of exchanges (delivered and updated), whose tags the hub wrote:
`hub:proposal="N"` for each proposal an item serves, `hub:parallel-group="UUID"` for an assessment
that has a parallel group. A pair is a group holding one delivered EU assessment and one delivered
NATO assessment; it is complete on the day its second half crossed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from hub.ledger import Ledger
from hub.report.period import Period

EXCHANGE_DECISIONS = ("delivered", "updated")  # what crossed; see hub.report.figures.EXCHANGES
PROPOSAL_TAG = re.compile(r'hub:proposal=\\?"(\d{1,2})\\?"')  # as the tags column holds it (JSON text)
GROUP_TAG = re.compile(r'hub:parallel-group=\\?"([0-9a-f-]{36})\\?"')
SIDES = ("EU", "NATO")


@dataclass(frozen=True)
class Pair:
    """One parallel group: the day each side's assessment first crossed (None while it has not)."""

    group: str
    first: dict[str, date | None]  # side -> day its assessment was first delivered

    @property
    def completed(self) -> date | None:
        """The day the second half crossed, or None while the group waits for it."""
        days = [d for d in (self.first.get(s) for s in SIDES) if d is not None]
        return max(days) if len(days) == len(SIDES) else None

    @property
    def since(self) -> date:
        """The day the group's first half crossed."""
        return min(d for d in self.first.values() if d is not None)

    @property
    def waiting_for(self) -> str | None:
        """The side whose assessment has not crossed yet, or None once complete."""
        missing = [s for s in SIDES if self.first.get(s) is None]
        return missing[0] if len(missing) == 1 else None


@dataclass(frozen=True)
class Cooperation:
    """Exchanges per (area, proposal) in the period and the previous one, and the parallel groups."""

    proposals: Counter[tuple[str, int]] = field(default_factory=Counter)
    previous_proposals: Counter[tuple[str, int]] = field(default_factory=Counter)
    pairs: list[Pair] = field(default_factory=list)  # every group seen up to the end of the period

    def completed_in(self, period: Period) -> list[Pair]:
        """Pairs whose second half crossed within `period`."""
        return [p for p in self.pairs if p.completed is not None and period.first <= p.completed <= period.last]

    def completed_by(self, day: date) -> list[Pair]:
        """Pairs complete on `day` or before."""
        return [p for p in self.pairs if p.completed is not None and p.completed <= day]

    def waiting(self) -> list[Pair]:
        """Groups with one half delivered and the other still awaited, oldest first."""
        pending = [p for p in self.pairs if p.waiting_for]
        return sorted(pending, key=lambda p: (p.since, p.group))


def read(ledger: Ledger, period: Period) -> Cooperation:
    """The cooperation figures of `period` (and the previous period's per-proposal counts)."""
    previous = period.previous()
    now: Counter[tuple[str, int]] = Counter()
    before: Counter[tuple[str, int]] = Counter()
    exchanges = ledger.select({"decision": EXCHANGE_DECISIONS}, previous.first.isoformat(), period.last.isoformat())
    for r in exchanges:
        target = now if r.day >= period.first.isoformat() else before
        for n in PROPOSAL_TAG.findall(r.tags):
            target[(r.area, int(n))] += 1
    first: dict[str, dict[str, date | None]] = {}
    assessments = ledger.select({"decision": EXCHANGE_DECISIONS, "kind": ["assessment"]}, None, period.last.isoformat())
    for r in assessments:  # every group since the start: a pair may complete long after its first half crossed
        side = r.direction.split("->", 1)[0]
        for group in GROUP_TAG.findall(r.tags) if side in SIDES else ():
            seen = first.setdefault(group, dict.fromkeys(SIDES))
            if seen[side] is None:  # records come in chain order: the first is the earliest
                seen[side] = date.fromisoformat(r.day)
    return Cooperation(now, before, [Pair(g, days) for g, days in sorted(first.items())])
