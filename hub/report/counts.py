"""Counts: the live figures per (day, area, kind, direction, decision), as a table or JSON."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hub.core.decision import Decision
from hub.ledger import CountRow

DECISIONS = [d.value for d in Decision]


def totals(rows: list[CountRow]) -> dict[str, int]:
    """Submissions per decision, every decision present."""
    out = dict.fromkeys(DECISIONS, 0)
    for *_, decision, n in rows:
        out[decision] = out.get(decision, 0) + n
    return out


def as_json(rows: list[CountRow]) -> dict[str, Any]:
    """The counts as `hub counts --json` prints them."""
    keys = ("day", "area", "kind", "direction", "decision", "n")
    return {"counts": [dict(zip(keys, r, strict=True)) for r in rows], "totals": totals(rows)}


def table(rows: list[CountRow]) -> str:
    """A plain-text table: one line per (area, kind, direction), one column per decision."""
    grid: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(DECISIONS, 0))
    for _day, area, kind, direction, decision, n in rows:
        grid[(area, kind, direction)][decision] += n
    head = ["area", "kind", "direction", *DECISIONS, "total"]
    body = [[*k, *(str(v[d]) for d in DECISIONS), str(sum(v.values()))] for k, v in sorted(grid.items())]
    t = totals(rows)
    body.append(["total", "", "", *(str(t[d]) for d in DECISIONS), str(sum(t.values()))])
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(head), rule, *(line(r) for r in body[:-1]), rule, line(body[-1])])
