"""The inbox page in headless Chromium, driven over the DevTools protocol: sign in with a token, read the deliveries'
TLP banners, filter them, and see the hub's decision on one's own submissions."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import random
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from connectors.store import delivered
from hub.demo.scenario import BASE_TIME, envelope
from hub.ledger import Ledger
from hub.ledger.deliveries import put
from schemas.common import Side
from tests.audit.ledgers import outcome, write
from tests.taxii.conftest import server_settings, serving
from tests.taxii.test_taxii_server import NATO_ORG

pytestmark = pytest.mark.e2e
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--remote-debugging-port=0"]  # fmt: skip
TLP_RGB = {"GREEN": "rgb(51, 255, 0)", "AMBER": "rgb(255, 192, 0)", "CLEAR": "rgb(255, 255, 255)"}


class Browser:
    """One Chromium page driven over the DevTools protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        n = next(self.ids)
        await self.ws.send_json({"id": n, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json(timeout=30)
            if msg.get("id") == n:
                assert "error" not in msg, msg
                return msg["result"]

    async def js(self, expression: str) -> Any:
        found = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return found["result"].get("value")

    async def settled(self, path: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if await self.js(f"location.pathname === {json.dumps(path)} && document.readyState === 'complete'"):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the page never reached {path}: {await self.js('location.href')}")

    async def open(self, url: str) -> None:
        await self.call("Page.navigate", url=url)
        await self.settled(urlsplit(url).path)


async def chromium_page(profile: Path) -> tuple[subprocess.Popen[bytes], aiohttp.ClientSession, Browser]:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's chromium is not installed: run `apt-get update && apt-get install -y chromium`")
    proc = subprocess.Popen([path, *HEADLESS, f"--user-data-dir={profile}", "about:blank"],  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not port_file.exists() or not port_file.read_text().strip():
        assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
        await asyncio.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    http = aiohttp.ClientSession()
    async with http.get(f"http://127.0.0.1:{port}/json/list") as r:
        page = next(t for t in await r.json() if t["type"] == "page")
    ws = await http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
    return proc, http, Browser(ws)


SHOWN = """JSON.stringify({
  banners: [...document.querySelectorAll('#deliveries .banner')].map(b => ({tlp: b.dataset.tlp,
     colour: getComputedStyle(b.firstElementChild).color, background: getComputedStyle(b).backgroundColor})),
  items: [...document.querySelectorAll('#deliveries .item')].map(i => i.dataset.item),
  decisions: [...document.querySelectorAll('#decisions tr[data-item]')].map(r => ({item: r.dataset.item,
     decision: r.querySelector('[data-decision]').textContent, reason: r.querySelector('[data-reason]').textContent})),
  cookie: document.cookie, title: document.title, text: document.body.innerText})"""


def fill(ledger_url: str) -> tuple[list[dict], dict]:
    rng = random.Random(21)
    docs = []
    for i, (kind, tlp) in enumerate([("assessment", "GREEN"), ("stratcom_note", "AMBER"), ("assessment", "CLEAR"),
                                     ("assessment", "AMBER")]):  # fmt: skip
        doc = envelope(rng, kind, "EU", BASE_TIME + timedelta(minutes=i), tlp=tlp, releasable_to=["NATO"])
        doc["content_hash"] = hashlib.sha256(str(i).encode()).hexdigest()
        docs.append(doc)
    docs[0]["payload"]["title"] = "Zebra <script>alert(1)</script> campaign"
    led = Ledger(ledger_url)
    put(led, [delivered(Side.NATO, d) for d in docs], datetime.now(UTC))
    withheld = outcome(kind="assessment", decision="withheld", area="hybrid_threats", origin="NATO")
    write(led, datetime.now(UTC).date().isoformat(), withheld, outcome(kind="misp_event", origin="EU"))
    led.close()
    return docs, {"item": str(withheld.envelope.source_id), "reason": withheld.reason}


async def test_the_inbox_page_shows_banners_filters_and_the_submitters_decision(
    tmp_path, ledger_url, keyring_file, token
):
    docs, withheld = fill(ledger_url)
    nato = token(NATO_ORG, "NATO")
    with serving(server_settings(tmp_path, ledger_url, keyring_file)) as url:
        proc, http, page = await chromium_page(tmp_path / "profile")
        try:
            await page.call("Page.enable")
            await page.open(f"{url}inbox/")
            await page.js(f"document.getElementById('token').value = {json.dumps(nato)}; "
                          "document.getElementById('login').click(); true")  # fmt: skip
            await page.settled("/inbox/nato/")
            shown = json.loads(await page.js(SHOWN))
            assert shown["cookie"] == ""  # HttpOnly: no script can read the token
            assert sorted(shown["items"]) == sorted(d["source_id"] for d in docs)
            for b in shown["banners"]:
                assert (b["colour"], b["background"]) == (TLP_RGB[b["tlp"]], "rgb(0, 0, 0)")
            assert sorted(b["tlp"] for b in shown["banners"]) == ["AMBER", "AMBER", "CLEAR", "GREEN"]
            assert "Zebra <script>alert(1)</script> campaign" in shown["text"]  # shown as text, never run
            assert shown["decisions"] == [{"item": withheld["item"], "decision": "withheld",
                                           "reason": withheld["reason"]}]  # fmt: skip

            await page.open(f"{url}inbox/nato/?tlp=AMBER")
            amber = json.loads(await page.js(SHOWN))
            assert sorted(amber["items"]) == sorted(d["source_id"] for d in docs if d["markings"]["tlp"] == "AMBER")
            await page.open(f"{url}inbox/nato/?kind=stratcom_note")
            assert json.loads(await page.js(SHOWN))["items"] == [docs[1]["source_id"]]
            await page.open(f"{url}inbox/nato/?q=zebra+CAMPAIGN")
            assert json.loads(await page.js(SHOWN))["items"] == [docs[0]["source_id"]]
            await page.open(f"{url}inbox/nato/?kind=assessment&tlp=AMBER")
            assert json.loads(await page.js(SHOWN))["items"] == [docs[3]["source_id"]]

            await page.open(f"{url}inbox/eu/")
            assert "opens the NATO inbox only" in json.loads(await page.js(SHOWN))["text"]
        finally:
            await page.ws.close()
            await http.close()
            proc.terminate()
            proc.wait(10)


async def test_the_inbox_page_needs_a_token_and_keeps_a_strict_policy(web):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{web}inbox/nato/") as r:
            assert r.status == 200
            assert 'name="token"' in await r.text()  # the login form, nothing of the inbox
            csp = r.headers["Content-Security-Policy"]
        assert "script-src" not in csp  # no script at all: default-src 'none' holds for scripts
        assert "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        async with http.post(f"{web}inbox/login", data={"token": "hub_0_nope"}, allow_redirects=False) as r:
            assert r.status == 401
            assert "set-cookie" not in r.headers
