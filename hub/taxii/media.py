"""TAXII 2.1's media types, content negotiation, and its error message, for every TAXII answer.

A client must accept `application/taxii+json;version=2.1` (406 otherwise) and send it as the
Content-Type of what it adds (415 otherwise); every error is a TAXII error message (`title`,
`description`, `http_status` as a string), also a 401 or a 403, so a client can show why.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
TAXII_TYPE = "application/taxii+json"
VERSION = "2.1"


def _ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    """The media ranges of an Accept or Content-Type header: (type, parameters), lower-cased."""
    found = []
    for part in header.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        pairs = dict(p.split("=", 1) for p in params if "=" in p)
        found.append((kind.lower(), {k.strip().lower(): v.strip().strip('"') for k, v in pairs.items()}))
    return found


def accepts_taxii(accept: str | None) -> bool:
    """Whether an Accept header takes TAXII 2.1 (an absent header takes anything, as HTTP says)."""
    if accept is None or not accept.strip():
        return True
    for kind, params in _ranges(accept):
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*"):
            return True
        if kind == TAXII_TYPE and params.get("version", VERSION) == VERSION:
            return True
    return False


def is_taxii(content_type: str | None) -> bool:
    """Whether a Content-Type is TAXII 2.1's."""
    if not content_type:
        return False
    kind, params = _ranges(content_type)[0]
    return kind == TAXII_TYPE and params.get("version", VERSION) == VERSION


def taxii_json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A TAXII answer."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, status_code=status, media_type=TAXII, headers=headers)


def taxii_error(status: HTTPStatus, description: str, headers: dict[str, str] | None = None) -> Response:
    """A TAXII error message."""
    body = {"title": status.phrase, "description": description, "http_status": str(status.value)}
    return taxii_json(body, status.value, headers)
