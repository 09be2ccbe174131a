"""The report as JSON: the period's count rows in the shape of `hub counts --json`, with its breakdowns.

`counts` and `totals` compare directly with `hub counts --json` (over the same days) and with a
recount of `hub audit list --format json`; `previous` holds the same for the period before.
"""

from __future__ import annotations

from typing import Any

from hub.counts import as_json as counts_json
from hub.report.figures import DIMENSIONS, EXCHANGES, Figures
from hub.report.headline import headlines
from hub.report.language import Lang, period_label


def document(f: Figures, lang: Lang) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    current, previous = counts_json(f.rows), counts_json(f.previous_rows)
    return {
        "period": _period(f, lang, previous=False),
        "previous": {**_period(f, lang, previous=True), **previous, "figures": _figures(f, previous=True)},
        **current,
        "figures": _figures(f, previous=False),
        "monthly": {"area": f.monthly("area"), "direction": f.monthly("direction")},
        "headlines": headlines(f, lang),
        "lang": lang,
        "ledger": {"head_seq": f.head[0], "head_hash": f.head[1]},
    }


def _period(f: Figures, lang: Lang, previous: bool) -> dict[str, str]:
    p = f.previous if previous else f.period
    return {"from": p.first.isoformat(), "to": p.last.isoformat(), "label": period_label(p, lang)}


def _figures(f: Figures, previous: bool) -> dict[str, Any]:
    out: dict[str, Any] = {dim: f.by(dim, previous=previous) for dim in DIMENSIONS}
    out["exchanges"] = {dim: f.by(dim, previous=previous, decision=EXCHANGES) for dim in DIMENSIONS[:3]}
    return out
