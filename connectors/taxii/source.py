"""A TAXII 2.1 collection as a hub source: what was added after the saved watermark, as hub submissions.

Each pass asks the collection for the objects added after the watermark, page by page (`limit`,
`next`, as taxii2-client's `as_pages` does), and maps each `report` carrying the hub's extension
back to its envelope (`hub.stix.report.envelope_of_report`, with the identity, attack patterns
and markings it refers to). A report or grouping without the extension (a MISP event as misp-stix
writes it, say) has no mapping to a hub item: it is recorded as refused, with that reason, and
passed; other objects are only what reports refer to. The watermark is the server's
`X-TAXII-Date-Added-Last` of the last page read, saved (atomically, under `HUB_DATA_DIR/connectors/`)
only once a whole pass was submitted and acknowledged, so a crash re-reads, and the hub's
deduplication decides what was sent twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from taxii2client.v21 import Collection

from connectors import Change, Unsent
from hub.errors import ConnectorError
from hub.stix.convert import envelope_of_item_report
from schemas.common import Side
from schemas.stix_extension import EXTENSION_ID

log = logging.getLogger("hub.taxii")
PAGE = 500  # objects asked for per request: a few hundred KiB of JSON
DATE_ADDED_LAST = "X-TAXII-Date-Added-Last"
TOPS = ("report", "grouping")  # the objects that stand for one item
Json = dict[str, Any]


class TokenAuth(requests.auth.AuthBase):
    """`Authorization: Bearer TOKEN`, and the last `X-TAXII-Date-Added-Last` the server answered (a response hook)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.date_added_last: str | None = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        request.register_hook("response", self._saw)
        return request

    def _saw(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.ok and response.headers.get(DATE_ADDED_LAST):
            self.date_added_last = response.headers[DATE_ADDED_LAST]


class Watermark:
    """The `added_after` of the next pass, in a small JSON file written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.value: str | None = None
        if path.is_file():
            self.value = json.loads(path.read_text(encoding="utf-8")).get("added_after")

    def save(self, value: str) -> None:
        """Keep `value` (a TAXII timestamp) for the next pass."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps({"added_after": value}), encoding="utf-8")
        os.replace(tmp, self.path)
        self.value = value


def _version(text: str) -> int:
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


class TaxiiSource:
    """A hub source over one TAXII 2.1 collection."""

    def __init__(self, collection: Collection, auth: TokenAuth, side: Side, watermark: Watermark) -> None:
        self.collection = collection
        self.auth = auth
        self.side = side
        self.watermark = watermark
        self._seen_last: str | None = None

    async def _pages(self) -> AsyncIterator[Json]:
        filters: dict[str, Any] = {"added_after": self.watermark.value} if self.watermark.value else {}
        after: str | None = None
        while True:
            try:
                page: Json = await asyncio.to_thread(
                    self.collection.get_objects, limit=PAGE, **({"next": after} if after else {}), **filters
                )
            except requests.RequestException as exc:
                raise ConnectorError(f"TAXII collection {self.collection.url}: {str(exc)[:300]}") from exc
            self._seen_last = self.auth.date_added_last or self._seen_last
            yield page
            if not page.get("more") or not page.get("next"):
                return
            after = str(page["next"])

    async def changes(self) -> AsyncIterator[Change | Unsent]:
        """Each hub report added since the watermark, as a submission; other reports as refused."""
        by_id: dict[str, Json] = {}
        tops: list[Json] = []
        async for page in self._pages():
            objects = [o for o in page.get("objects") or () if isinstance(o, dict)]
            by_id.update((str(o.get("id")), o) for o in objects)
            tops += [o for o in objects if o.get("type") in TOPS]
        for top in tops:  # after every page: a report may come before what it refers to
            yield self._change(top, by_id)

    def _change(self, top: Json, by_id: dict[str, Json]) -> Change | Unsent:
        key, version = str(top.get("id")), str(top.get("modified") or "")
        if EXTENSION_ID not in (top.get("extensions") or {}):
            return Unsent(key, _version(version), f"a STIX {top.get('type')} without the hub's extension has no "
                          "hub mapping (MISP events cross through the MISP connectors)")  # fmt: skip
        try:
            env = envelope_of_item_report(top, by_id)
        except (ValueError, KeyError, TypeError) as exc:
            return Unsent(key, _version(version), str(exc)[:300])
        return Change(key, _version(version), json.dumps(env, ensure_ascii=False).encode())

    def done(self, items: Sequence[Change | Unsent]) -> None:
        """Nothing to keep per item: the watermark moves once a whole pass was submitted."""

    def passed(self) -> None:
        """A whole pass was submitted and acknowledged: the next one starts after its last object."""
        if self._seen_last is not None and self._seen_last != self.watermark.value:
            self.watermark.save(self._seen_last)

    async def close(self) -> None:
        """Release the client's connections."""
        await asyncio.to_thread(self.collection.close)
