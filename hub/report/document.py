"""The report as JSON: the period's count rows in the shape of `hub counts --json`, with its breakdowns.

`counts` and `totals` compare directly with `hub counts --json` (over the same days) and with a
recount of `hub audit list --format json`; `previous` holds the same for the period before.
"""

from __future__ import annotations

import json
from typing import Any

from hub.report.counts import as_json as counts_json
from hub.report.figures import DIMENSIONS, EXCHANGES, Figures, order
from hub.report.headline import headlines
from hub.report.language import Lang, period_label

EXPANDED_DEPTH = 2  # the document and its sections (previous, figures, monthly) get one key per line


def document(f: Figures, lang: Lang) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    current, previous = counts_json(f.rows), counts_json(f.previous_rows)
    return {
        "period": _period(f, lang, previous=False),
        "previous": {**_period(f, lang, previous=True), **previous, "figures": _figures(f, previous=True)},
        **current,
        "figures": _figures(f, previous=False),
        "monthly": {"area": f.monthly("area"), "direction": f.monthly("direction")},
        "proposals": proposals_json(f),
        "pairs": pairs_json(f),
        "headlines": headlines(f, lang),
        "lang": lang,
        "ledger": {"head_seq": f.head[0], "head_hash": f.head[1]},
    }


def dumps(value: Any, depth: int = 0) -> str:
    """JSON text with the outer objects and each count row on their own lines.

    Readable like indented JSON, but everything inside a line goes through the C encoder: indenting the
    whole document with `json.dumps(indent=2)` takes the pure-Python path, several times slower on the
    hundred thousand rows of a multi-year report.
    """
    pad, end = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict) and value and depth < EXPANDED_DEPTH:
        items = [f"{pad}{json.dumps(k)}: {dumps(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "[\n" + ",\n".join(pad + json.dumps(v, ensure_ascii=False) for v in value) + "\n" + end + "]"
    return json.dumps(value, ensure_ascii=False)


def _period(f: Figures, lang: Lang, previous: bool) -> dict[str, str]:
    p = f.previous if previous else f.period
    return {"from": p.first.isoformat(), "to": p.last.isoformat(), "label": period_label(p, lang)}


def _figures(f: Figures, previous: bool) -> dict[str, Any]:
    out: dict[str, Any] = {dim: f.by(dim, previous=previous) for dim in DIMENSIONS}
    out["exchanges"] = {dim: f.by(dim, previous=previous, decision=EXCHANGES) for dim in DIMENSIONS[:3]}
    return out


def proposals_json(f: Figures) -> list[dict[str, Any]]:
    """Exchanges per (area, proposal) this period and the previous one."""
    c = f.cooperation
    keys = sorted(set(c.proposals) | set(c.previous_proposals), key=lambda k: (order("area", k[0]), k[1]))
    return [{"area": a, "proposal": n, "exchanges": c.proposals[(a, n)], "previous": c.previous_proposals[(a, n)]}
            for a, n in keys]  # fmt: skip


def pairs_json(f: Figures) -> dict[str, Any]:
    """Parallel and coordinated assessments: completed in the period, in all, and the groups still waiting."""
    c = f.cooperation
    waiting = [{"group": p.group, "awaiting": p.waiting_for, "since": p.since.isoformat()} for p in c.waiting()]
    completed = [{"group": p.group, "completed": p.completed.isoformat() if p.completed else None}
                 for p in c.completed_in(f.period)]  # fmt: skip
    return {"completed": len(completed), "completed_total": len(c.completed_by(f.period.last)),
            "completed_groups": completed, "waiting": waiting}  # fmt: skip
