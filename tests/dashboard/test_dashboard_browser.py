"""The dashboard in headless Chromium (Debian's `chromium`) shows the same figures as `hub counts`.

Chromium must be installed (`apt-get install -y chromium`); without it these tests fail, not skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from hub.report.counts import DECISIONS

pytestmark = pytest.mark.e2e
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--virtual-time-budget=10000",
]  # fmt: skip


class Shown(HTMLParser):
    """What the rendered page shows: the headline figures and the table cells, by their data attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.state = ""
        self.figures: dict[str, int] = {}
        self.cells: dict[tuple[str, str, str, str], int] = {}
        self.headlines: list[str] = []
        self._at: tuple[str, ...] | None = None
        self._row: tuple[str, str, str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.state = a.get("data-state", "")
        elif tag == "span" and "data-figure" in a:
            self._at = ("figure", a["data-figure"])
        elif tag == "tr" and "data-area" in a:
            self._row = (a["data-area"], a["data-kind"], a["data-direction"])
        elif tag == "td" and self._row and "data-decision" in a:
            self._at = ("cell", *self._row, a["data-decision"])
        elif tag == "li":
            self._at = ("headline",)

    def handle_data(self, data):
        if self._at is None:
            return
        if self._at[0] == "figure":
            self.figures[self._at[1]] = int(data)
        elif self._at[0] == "cell":
            self.cells[self._at[1:]] = int(data)  # type: ignore[index]
        else:
            self.headlines.append(data)
        self._at = None


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed: run `apt-get update && apt-get install -y chromium`")
    return path


def render(url: str, profile) -> Shown:
    """Load `url` in headless Chromium, let its script run, and parse the resulting DOM."""
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    shown = Shown()
    shown.feed(proc.stdout)
    assert shown.state == "ready", proc.stdout[-2000:]
    return shown


def hub_counts(url: str) -> dict:
    env = {**os.environ, "HUB_LEDGER_URL": url}
    proc = subprocess.run([sys.executable, "-m", "hub", "counts", "--json"], capture_output=True, text=True, env=env,
                          timeout=60, check=True)  # fmt: skip
    return json.loads(proc.stdout)


def test_the_page_shows_the_figures_of_hub_counts(dashboard, filled, tmp_path):
    counts = hub_counts(filled)
    today = max(r["day"] for r in counts["counts"])
    current = [r for r in counts["counts"] if r["day"] == today]  # the default period: this half-year
    shown = render(dashboard.url, tmp_path / "profile")
    totals = dict.fromkeys(DECISIONS, 0)
    cells: dict[tuple[str, str, str, str], int] = {}
    for r in current:
        totals[r["decision"]] += r["n"]
        key = (r["area"], r["kind"], r["direction"], r["decision"])
        cells[key] = cells.get(key, 0) + r["n"]
    assert {d: shown.figures[d] for d in DECISIONS} == totals == {
        "delivered": 13, "updated": 3, "duplicate": 1, "withheld": 1, "rejected": 1,
    }  # fmt: skip
    assert shown.figures["total"] == sum(totals.values())
    assert shown.figures["exchanges"] == totals["delivered"] + totals["updated"]
    assert {k: n for k, n in shown.cells.items() if k[3] != "total" and n} == cells
    previous = sum(r["n"] for r in counts["counts"] if r["day"] != today)
    assert previous == 5
    assert sum(totals.values()) + previous == sum(counts["totals"].values())
    assert any(
        h.startswith("CERT-EU and NCIRC exchanged information on 7 events in total since") for h in shown.headlines
    )


def test_the_page_applies_filters_and_language_from_its_address(dashboard, filled, tmp_path):
    counts = hub_counts(filled)
    since = "2000-01-01"
    shown = render(f"{dashboard.url}?from={since}&lang=fr&area=hybrid_threats", tmp_path / "profile")
    wanted = dict.fromkeys(DECISIONS, 0)
    for r in counts["counts"]:
        if r["area"] == "hybrid_threats":
            wanted[r["decision"]] += r["n"]
    assert {d: shown.figures[d] for d in DECISIONS} == wanted == {
        "delivered": 7, "updated": 0, "duplicate": 1, "withheld": 0, "rejected": 0,
    }  # fmt: skip
    assert {k[0] for k in shown.cells} == {"hybrid_threats"}
    assert any(h.startswith("La Cellule de fusion de l'UE contre les menaces hybrides") for h in shown.headlines)
