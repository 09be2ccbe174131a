"""Who is asking: an organisation's API token, from the Authorization header or the inbox page's cookie.

`Authorization: Bearer TOKEN` (or `Token TOKEN`, as taxii2-client's TokenAuth sends it, or HTTP
Basic with the token as the password, for clients that only know Basic) for TAXII clients; the
inbox page's login form sets the token in an HttpOnly, SameSite=Strict cookie. Tokens are checked
against their salted hashes (`hub.ledger.tokens`). No token, or one that does not check, is 401;
a token of the other side is 403 on this side's API root and page.
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import HTTPConnection

from hub.ledger.tokens import Holder, holder_of
from hub.taxii.service import Service

COOKIE = "hub_token"
SCHEMES = ("bearer", "token")


def credential(request: HTTPConnection) -> str | None:
    """The token a request presents, if any."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() in SCHEMES:
            return value.strip() or None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return None
            return decoded.partition(":")[2] or None
        return None
    return request.cookies.get(COOKIE) or None


async def holder(request: HTTPConnection, service: Service) -> Holder | None:
    """The organisation a request speaks for, or None."""
    token = credential(request)
    if token is None or len(token) > 200:
        return None
    return await service.db(holder_of, token)
