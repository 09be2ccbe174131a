"""The dashboard's one HTML page: filters, headline figures, charts, the counts table, and drill-down.

Self-contained (inline CSS and script, no external asset, nothing fetched but the hub's own JSON
endpoints). Figures carry `data-figure` / `data-decision` attributes so a test can read what the
page shows; `body[data-state]` becomes `ready` once the figures are drawn, or `error`.
"""

from __future__ import annotations

from hub.audit.listing import CHOICES

_STYLE = """
body{font-family:sans-serif;margin:1.5rem;color:#222}h1{font-size:1.4rem}
form{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin-bottom:1rem}
label{display:flex;flex-direction:column;font-size:.8rem}
.figs{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.fig{border:1px solid #ccc;border-radius:4px;padding:.5rem 1rem}
.fig .n{display:block;font-size:1.6rem;font-weight:bold}.fig .prev{display:block;font-size:.75rem;color:#666}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.2rem .5rem}
td[data-decision]{text-align:right;cursor:pointer}td[data-decision]:hover{background:#eef}
#error{color:#a00}.charts{display:flex;flex-wrap:wrap;gap:1rem}
"""

_SCRIPT = """
const DECISIONS = ["delivered", "updated", "duplicate", "withheld", "rejected"];
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = String(text);
  return e;
}
async function getJSON(path, extra) {
  const q = new URLSearchParams(params);
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  const r = await fetch(path + "?" + q.toString());
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}
function fillForm() {
  for (const name of ["from", "to", "lang", "area", "kind", "direction", "decision"]) {
    const input = $("f-" + name);
    if (params.get(name)) input.value = params.get(name);
  }
}
function figure(key, label, n, prev) {
  const box = el("div", {class: "fig"});
  box.append(el("span", {class: "n", "data-figure": key}, n), el("span", {}, label));
  if (prev !== undefined) box.append(el("span", {class: "prev", "data-previous": key}, "prev. " + prev));
  return box;
}
function drawSummary(s) {
  $("period").textContent = s.period.label + " (" + s.period.from + " – " + s.period.to + "), previous: "
    + s.previous.label;
  const figs = $("figures");
  figs.replaceChildren();
  const total = DECISIONS.reduce((a, d) => a + s.totals[d], 0);
  const prevTotal = DECISIONS.reduce((a, d) => a + s.previous.totals[d], 0);
  figs.append(figure("total", "submissions", total, prevTotal));
  figs.append(figure("exchanges", "exchanges", s.exchanges.current, s.exchanges.previous));
  for (const d of DECISIONS) figs.append(figure(d, s.decision_labels[d], s.totals[d], s.previous.totals[d]));
  const list = $("headlines");
  list.replaceChildren(...s.headlines.map((h) => el("li", {}, h)));
  const head = el("tr");
  for (const h of ["area", "kind", "direction"]) head.append(el("th", {}, h));
  for (const d of DECISIONS) head.append(el("th", {}, s.decision_labels[d]));
  head.append(el("th", {}, "total"));
  const rows = s.rows.map((r) => {
    const tr = el("tr", {"data-area": r.area, "data-kind": r.kind, "data-direction": r.direction});
    for (const l of r.labels) tr.append(el("td", {}, l));
    let sum = 0;
    for (const d of DECISIONS) {
      const n = r.decisions[d] || 0;
      sum += n;
      const td = el("td", {"data-decision": d}, n);
      td.onclick = () => drill({area: r.area, kind: r.kind, direction: r.direction, decision: d});
      tr.append(td);
    }
    tr.append(el("td", {"data-decision": "total"}, sum));
    return tr;
  });
  $("counts").replaceChildren(head, ...rows);
  const tables = s.cooperation.tables.flatMap((t) => {
    const table = el("table", {"class": "cooperation"});
    const top = el("tr");
    for (const h of t.header) top.append(el("th", {}, h));
    table.append(top);
    for (const r of t.rows) {
      const tr = el("tr");
      for (const c of r) tr.append(el("td", {}, c));
      table.append(tr);
    }
    return [el("h2", {}, t.title), table];
  });
  $("cooperation").replaceChildren(...tables);
  $("head").textContent = "ledger head: record " + s.ledger.head_seq + ", hash " + s.ledger.head_hash;
}
async function drill(filter) {
  const r = await getJSON("/api/records", filter);
  const cols = ["seq", "submission_id", "decided_at", "originator", "decision", "rule", "reason"];
  const head = el("tr");
  for (const c of cols) head.append(el("th", {}, c));
  const rows = r.records.map((x) => {
    const tr = el("tr");
    for (const c of cols) tr.append(el("td", {}, x[c] === null ? "" : x[c]));
    return tr;
  });
  $("records-title").textContent = Object.values(filter).join(" / ") + ": " + r.records.length
    + (r.truncated ? "+" : "") + " records";
  $("records").replaceChildren(head, ...rows);
}
async function load() {
  try {
    const [s, c] = await Promise.all([getJSON("/api/summary"), getJSON("/api/charts")]);
    drawSummary(s);
    $("chart-area").innerHTML = c.area;
    $("chart-direction").innerHTML = c.direction;
    $("error").textContent = "";
    document.body.dataset.state = "ready";
  } catch (e) {
    $("error").textContent = String(e.message || e);
    document.body.dataset.state = "error";
  }
}
$("filters").onsubmit = (ev) => {
  ev.preventDefault();
  for (const name of ["from", "to", "lang", "area", "kind", "direction", "decision"]) {
    const v = $("f-" + name).value;
    if (v) params.set(name, v); else params.delete(name);
  }
  history.replaceState(null, "", "?" + params.toString());
  load();
};
fillForm();
load();
"""


def _select(name: str, values: tuple[str, ...]) -> str:
    options = "".join(f'<option value="{v}">{v}</option>' for v in values)
    return f'<label>{name}<select id="f-{name}" name="{name}"><option value="">any</option>{options}</select></label>'


def page() -> str:
    """The dashboard page."""
    selects = "".join(_select(dim, values) for dim, values in CHOICES.items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Exchange hub dashboard</title><style>{_STYLE}</style></head>
<body data-state="loading">
<h1>EU–NATO exchange hub</h1>
<form id="filters">
<label>from<input id="f-from" type="date" name="from"></label><label>to<input id="f-to" type="date" name="to"></label>
<label>lang<select id="f-lang" name="lang"><option value="en">en</option><option value="fr">fr</option></select></label>
{selects}<button type="submit">Apply</button></form>
<p id="period"></p><p id="error"></p>
<section class="figs" id="figures"></section>
<ul id="headlines"></ul>
<div class="charts"><div id="chart-area"></div><div id="chart-direction"></div></div>
<table id="counts"></table>
<section id="cooperation"></section>
<h2 id="records-title"></h2><table id="records"></table>
<p id="head"></p>
<script>{_SCRIPT}</script>
</body></html>
"""
