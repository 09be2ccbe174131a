"""The inbox page: what the other side delivered to an analyst's side, and the hub's decisions on their own items.

`/inbox/` asks for an API token (`hub tokens add ORG SIDE`) in a form; the token goes into an
HttpOnly, SameSite=Strict cookie (Secure over HTTPS) and the page `/inbox/eu/` or `/inbox/nato/`
opens for that side only (403 for the other). Each delivery carries its markings as a banner in
the TLP 2.0 colours; filters (kind, area, TLP) and a full-text search are a plain GET form, read
on the server. The page holds no script at all, and its one inline style is allowed by its hash
in the Content-Security-Policy, so nothing injected into an item can run.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from hub.ledger.deliveries import deliveries
from hub.ledger.statuses import decisions_for
from hub.ledger.tokens import Holder, holder_of
from hub.taxii.auth import COOKIE, holder
from hub.taxii.service import Service
from schemas.common import Area, Kind
from schemas.markings import Tlp

SIDES = {"eu": "EU", "nato": "NATO"}
SHOWN = 1000  # deliveries read for one page: the newest; the TAXII inbox holds them all
MAX_FORM = 4096  # bytes of the login form
TLP_COLOURS = {  # FIRST TLP 2.0: the label's colour on a black background
    "CLEAR": "#FFFFFF", "GREEN": "#33FF00", "AMBER": "#FFC000", "AMBER+STRICT": "#FFC000", "RED": "#FF2B2B",
}  # fmt: skip
STYLE = (
    "body{font-family:sans-serif;margin:1.5rem;color:#222}"
    "form.filters{display:flex;gap:1rem;align-items:end;margin-bottom:1rem}"
    "label{display:flex;flex-direction:column;font-size:.8rem}"
    ".item{border:1px solid #ccc;margin:.6rem 0;padding:0 0 .4rem 0}.item h3{margin:.3rem .6rem}"
    ".item p{margin:.2rem .6rem}.banner{background:#000;font-weight:bold;padding:.2rem .6rem}"
    + "".join(f".tlp-{k.lower().replace('+', '-')}{{color:{v}}}" for k, v in TLP_COLOURS.items())
    + "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}"
    ".withheld,.rejected{color:#a00}"
)
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
Json = dict[str, Any]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def title_of(env: Json) -> str:
    """An item's title: an assessment's or a note's title, a MISP event's info."""
    payload = env.get("payload") or {}
    if env.get("kind") == Kind.MISP_EVENT:
        return str((payload.get("Event") or {}).get("info") or "(MISP event)")
    return str(payload.get("title") or "(untitled)")


def banner(env: Json) -> str:
    """The item's markings as a banner: TLP in its colour, PAP, releasability, originator control."""
    marks = env.get("markings") or {}
    tlp = str(marks.get("tlp") or "none")
    parts = [f'<span class="tlp-{_e(tlp.lower().replace("+", "-"))}">TLP:{_e(tlp)}</span>']
    if marks.get("pap"):
        parts.append(f'<span class="tlp-clear">PAP:{_e(marks["pap"])}</span>')
    if marks.get("releasable_to"):
        parts.append(f'<span class="tlp-clear">REL TO {_e(", ".join(map(str, marks["releasable_to"])))}</span>')
    if marks.get("originator_control"):
        parts.append('<span class="tlp-clear">ORCON</span>')
    return f'<div class="banner" data-tlp="{_e(tlp)}">{" ".join(parts)}</div>'


def matches(env: Json, kind: str, area: str, tlp: str, text: str) -> bool:
    """Whether a delivery passes the page's filters (text: every word, anywhere in the item, any case)."""
    if (kind and env.get("kind") != kind) or (area and env.get("area") != area):
        return False
    if tlp and str((env.get("markings") or {}).get("tlp") or "") != tlp:
        return False
    words = text.casefold().split()
    haystack = json.dumps(env, ensure_ascii=False).casefold() if words else ""
    return all(w in haystack for w in words)


def _select(name: str, values: list[str], chosen: str) -> str:
    options = "".join(f'<option value="{_e(v)}"{" selected" if v == chosen else ""}>{_e(v)}</option>' for v in values)
    return f'<label>{name}<select name="{name}"><option value="">any</option>{options}</select></label>'


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f"<style>{STYLE}</style></head><body>{body}</body></html>")  # fmt: skip
    return HTMLResponse(text, status_code=status, headers={"Content-Security-Policy": CSP})


def login_form(problem: str = "") -> HTMLResponse:
    """The login form."""
    note = f'<p class="rejected" id="problem">{_e(problem)}</p>' if problem else ""
    return _page(
        "Inbox: sign in",
        f'<h1>Inbox</h1>{note}<form method="post" action="/inbox/login"><label>API token'
        '<input type="password" name="token" id="token" autocomplete="off"></label>'
        '<button type="submit" id="login">Open</button></form>',
        401 if problem else 200,
    )


class InboxPage:
    """The inbox page's routes."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def routes(self) -> list[BaseRoute]:
        """Sign in, sign out, and the page per side."""
        return [
            Route("/inbox/", self._start, methods=["GET", "HEAD"]),
            Route("/inbox/login", self._login, methods=["POST"]),
            Route("/inbox/logout", self._logout, methods=["POST"]),
            *(Route(f"/inbox/{root}/", self._side(root), methods=["GET", "HEAD"]) for root in SIDES),
        ]

    async def _start(self, request: Request) -> Response:
        who = await holder(request, self.service)
        if who is None:
            return login_form()
        return RedirectResponse(f"/inbox/{who.side.lower()}/", status_code=303)

    async def _login(self, request: Request) -> Response:
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_FORM:
                return login_form("the form is too large")
        token = (parse_qs(data.decode("utf-8", "replace")).get("token") or [""])[0].strip()
        who = await self.service.db(holder_of, token) if 0 < len(token) <= 200 else None
        if who is None:
            return login_form("that token does not open an inbox")
        answer = RedirectResponse(f"/inbox/{who.side.lower()}/", status_code=303)
        answer.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                          secure=request.url.scheme == "https")  # fmt: skip
        return answer

    async def _logout(self, request: Request) -> Response:
        answer = RedirectResponse("/inbox/", status_code=303)
        answer.delete_cookie(COOKIE, path="/")
        return answer

    def _side(self, root: str) -> Any:
        async def page(request: Request) -> Response:
            who = await holder(request, self.service)
            if who is None:
                return login_form()
            if who.side != SIDES[root]:
                return _page("Inbox", f"<h1>403</h1><p>A {_e(who.side)} token opens the {_e(who.side)} inbox only.</p>",
                             403)  # fmt: skip
            return await self._render(request, who)

        return page

    async def _render(self, request: Request, who: Holder) -> Response:
        q = request.query_params
        kind, area, tlp, text = (q.get(n, "").strip()[:200] for n in ("kind", "area", "tlp", "q"))
        kept = await self.service.db(deliveries, who.side, SHOWN)
        shown = [(at, env) for at, env in kept if matches(env, kind, area, tlp, text)]
        decided = await self.service.db(decisions_for, who.side, who.org)
        other = "NATO" if who.side == "EU" else "EU"
        filters = (f'<form class="filters" method="get">{_select("kind", [k.value for k in Kind], kind)}'
                   f'{_select("area", [a.value for a in Area], area)}{_select("tlp", [t.value for t in Tlp], tlp)}'
                   f'<label>search<input type="search" name="q" value="{_e(text)}"></label>'
                   '<button type="submit">Filter</button></form>')  # fmt: skip
        items = "".join(self._item(at, env) for at, env in shown) or "<p>Nothing matches.</p>"
        rows = "".join(
            f'<tr class="{_e(d.decision)}" data-item="{_e(d.source_id or "")}"><td>{_e(d.decided_at[:19])}</td>'
            f"<td>{_e(d.kind)}</td><td>{_e(d.source_id or '')}</td><td data-decision>{_e(d.decision)}</td>"
            f"<td>{_e(d.rule)}</td><td data-reason>{_e(d.reason)}</td></tr>"
            for d in decided
        )
        body = (f"<h1>{_e(who.side)} inbox</h1><p>Signed in as {_e(who.org)} ({_e(who.side)}). "
                '<form method="post" action="/inbox/logout"><button type="submit">Sign out</button></form></p>'
                f'<h2>Delivered by {other}</h2>{filters}<p id="shown">{len(shown)} of {len(kept)} deliveries</p>'
                f'<div id="deliveries">{items}</div>'
                f'<h2>Your submissions: the hub\'s decisions</h2><table id="decisions"><tr><th>decided</th>'
                "<th>kind</th><th>item</th><th>decision</th><th>rule</th><th>reason</th></tr>"
                f"{rows}</table>")  # fmt: skip
        return _page(f"{who.side} inbox", body)

    @staticmethod
    def _item(at: str, env: Json) -> str:
        return (f'<div class="item" data-kind="{_e(env.get("kind"))}" data-item="{_e(env.get("source_id"))}">'
                f"{banner(env)}<h3>{_e(title_of(env))}</h3>"
                f"<p>{_e(env.get('kind'))} · {_e(env.get('area'))} · {_e(env.get('originator'))} · "
                f"version {_e(env.get('version'))} · received {_e(at[:19])}</p></div>")  # fmt: skip
