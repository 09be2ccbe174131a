"""Charts as inline SVG: stacked bars per month, self-contained (no script, no external asset)."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 760, 300  # px; fits an A4 page's text width at 96 dpi
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 64  # margins: y labels left, month labels and the legend's first line below
PALETTE = ("#1f4e9c", "#e0a000", "#2a9d8f", "#c0392b", "#7d5ba6", "#5c8a2b", "#d35400", "#34495e", "#95a5a6")
MAX_MONTH_LABELS = 12  # beyond this, label every n-th month so the labels do not overlap


def stacked_bars(title: str, months: list[str], series: dict[str, dict[str, int]], labels: dict[str, str]) -> str:
    """An SVG of one stacked bar per month, one colour per series (`series[key][month] = n`)."""
    keys = [k for k in series if sum(series[k].values())] or list(series)
    totals = [sum(series[k].get(m, 0) for k in keys) for m in months]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(months), 1)
    bar = max(step * 0.7, 1.0)
    out = [
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for frac in (0, 0.5, 1):
        y = TOP + plot_h * (1 - frac)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{round(top * frac)}</text>')
    every = -(-len(months) // MAX_MONTH_LABELS)  # ceiling division
    for i, m in enumerate(months):
        x = LEFT + i * step + (step - bar) / 2
        base = float(TOP + plot_h)
        for j, k in enumerate(keys):
            n = series[k].get(m, 0)
            if n and top:
                h = plot_h * n / top
                base -= h
                colour = PALETTE[j % len(PALETTE)]
                tip = escape(f"{labels.get(k, k)}, {m}: {n}")
                out.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{tip}</title></rect>"
                )
        if i % every == 0:
            out.append(f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle">{m}</text>')
    legend, height = _legend(keys, labels)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">'
    )
    return "".join([head, *out, *legend, "</svg>"])


def _legend(keys: list[str], labels: dict[str, str]) -> tuple[list[str], int]:
    """The legend's elements, wrapped to the chart's width, and the chart height that holds them."""
    out: list[str] = []
    x, y = LEFT, HEIGHT - BOTTOM + 34
    for j, k in enumerate(keys):
        text = labels.get(k, k)
        width = 30 + 7 * len(text)  # swatch, gap, and at most ~7 px per character at 11 px
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = LEFT, y + 16
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>')
        out.append(f'<text x="{x + 14}" y="{y}">{escape(text)}</text>')
        x += int(width)
    return out, max(HEIGHT, y + 12)


def _nice_max(n: int) -> int:
    """The smallest of 1, 2, 5 x 10^k at or above `n` (an axis top a reader can halve)."""
    if n <= 0:
        return 0
    scale = 1
    while True:
        for m in (1, 2, 5):
            if m * scale >= n:
                return m * scale
        scale *= 10
