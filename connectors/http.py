"""HTTP to a peer, bounded: one deadline per whole answer, a cap on its decompressed size, no redirects.

Every answer from a peer is read here. A hostile or broken peer can send a gzip bomb, an endless
body, one byte every thirty seconds, a redirect to another host, or nothing at all; each ends as
one `ConnectorError` naming the peer and the problem, within `Limits.deadline_s` and using at most
`Limits.max_bytes` of memory for the body, and the call can be cancelled at any moment (SIGTERM).

    PeerUnavailable   connection refused or reset, time-out, HTTP 5xx or 429 (after `attempts`)
    AnswerTooLarge    the decompressed body passed `max_bytes` (a Refused: that item cannot cross)
    ConnectorError    a TLS certificate refused, a redirect, a body that is not JSON, ...

Transient failures are retried `attempts` times with jittered exponential backoff, honouring a
`Retry-After` of up to RETRY_AFTER_INLINE_S; a longer one is passed up in `retry_after`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from connectors.retry import Backoff, retry_after
from hub.errors import ConfigError, ConnectorError, PeerUnavailable, Refused
from hub.files import MIB, read_text, size_text

log = logging.getLogger("hub.connectors")
CONNECT_S = 10.0  # TCP and TLS set-up; a peer that cannot accept within this is down
ATTEMPTS = 3  # tries per request before a transient failure is passed up to the connector's supervisor
RETRY_AFTER_INLINE_S = 30.0  # a longer Retry-After is waited for by the supervisor, not inside one request
CHUNK = 64 * 1024  # bytes read from the socket at a time
CA_BUNDLE_LIMIT = 4 * MIB  # certifi's whole bundle is ~300 KiB
_insecure_warned: set[str] = set()  # peers already warned about in this run (once per run, not per request)


class AnswerTooLarge(Refused):
    """The peer's answer passed the size cap once decompressed: that item cannot cross."""


@dataclass(frozen=True)
class Limits:
    """How much of a peer's answer is read, and for how long."""

    max_bytes: int = 64 * MIB  # decompressed body; a MISP event larger than a Kafka message cannot cross anyway
    deadline_s: float = 300.0  # the whole answer, from connecting to the last byte
    attempts: int = ATTEMPTS


@dataclass(frozen=True)
class Answer:
    """A peer's whole answer: status, headers and body (decompressed, within the cap)."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    url: str

    def json(self) -> Any:
        """The body as JSON; ConnectorError naming the URL when it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError) as exc:
            raise ConnectorError(f"{self.url} answered HTTP {self.status} with a body that is not JSON") from exc

    def text(self, limit: int = 300) -> str:
        """The start of the body as one line of text, for error messages."""
        return one_line(self.body[: limit * 4].decode("utf-8", "replace"), limit)


def one_line(text: str, limit: int = 300) -> str:
    """A peer's words made safe to log and print: one line, printable (no terminal escapes), bounded."""
    shown = "".join(c if c.isprintable() else " " for c in text[: limit * 4])
    return " ".join(shown.split())[:limit]


def tls_context(verify: bool, ca_bundle: Path | None, url: str) -> ssl.SSLContext:
    """The TLS context for one peer: the system's CAs, or `ca_bundle`'s, or (warned once) none at all."""
    if not verify:
        if url not in _insecure_warned:
            _insecure_warned.add(url)
            log.warning("TLS certificate of %s is NOT verified (verify_tls = false / --insecure)", url)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    if ca_bundle is None:
        return ssl.create_default_context()
    pem = read_text(ca_bundle, CA_BUNDLE_LIMIT, "CA bundle")
    try:
        return ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError) as exc:
        raise ConfigError(f"CA bundle {ca_bundle} holds no usable PEM certificate: {exc}") from exc


class HttpPeer:
    """One peer reached over HTTP(S) with fixed headers; use `close()` when done."""

    def __init__(self, base_url: str, headers: dict[str, str], tls: ssl.SSLContext, limits: Limits) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.headers = {**headers, "Accept-Encoding": "gzip, deflate"}
        self.tls = tls
        self.limits = limits
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.tls, limit=4),
                headers=self.headers,
                auto_decompress=False,  # decompressed here, within the cap
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_S),
                raise_for_status=False,
            )
        return self._session

    async def close(self) -> None:
        """Close the connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, body: Any = None) -> Answer:
        """One request, retried on transient failures; its whole answer, whatever the status."""
        backoff = Backoff(first_s=0.5, cap_s=8.0)
        for attempt in range(1, self.limits.attempts + 1):
            try:
                answer = await self._once(method, path, body)
            except PeerUnavailable as exc:
                if attempt == self.limits.attempts or (exc.retry_after or 0) > RETRY_AFTER_INLINE_S:
                    raise
                delay = backoff.next_delay(exc.retry_after)
                log.info("%s; retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                continue
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, method: str, path: str, body: Any) -> Answer:
        url = self.base_url + path
        data = None if body is None else json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
        try:
            async with asyncio.timeout(self.limits.deadline_s):
                async with self._open().request(method, url, data=data, allow_redirects=False) as resp:
                    content = await self._read(resp, url)
                    answer = Answer(resp.status, resp.headers, content, url)
        except TimeoutError as exc:
            raise PeerUnavailable(f"{url}: no whole answer within {self.limits.deadline_s:g} s") from exc
        except zlib.error as exc:
            raise ConnectorError(f"{url}: the compressed answer is corrupt ({exc})") from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise ConnectorError(f"{url}: TLS certificate refused: {_certificate_problem(exc)}") from exc
        except aiohttp.ClientSSLError as exc:
            raise ConnectorError(f"{url}: TLS failed: {_oneline(exc)}") from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as exc:
            raise PeerUnavailable(f"{url}: {_oneline(exc)}") from exc
        except aiohttp.ClientError as exc:
            raise ConnectorError(f"{url}: {_oneline(exc)}") from exc
        if answer.status == 429 or answer.status >= 500:
            wait = retry_after(answer.headers.get("Retry-After"))
            raise PeerUnavailable(f"{url} answered HTTP {answer.status} {answer.text(200)}".rstrip(), wait)
        return answer

    async def _read(self, resp: aiohttp.ClientResponse, url: str) -> bytes:
        """The body, decompressed as it arrives, refused as soon as it passes the cap."""
        limit = self.limits.max_bytes
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        unpack = _decompressor(encoding, url)
        if unpack is None and (resp.content_length or 0) > limit:  # said before it is sent: not read at all
            raise AnswerTooLarge(f"{url}: the answer is larger than {size_text(limit)} ({resp.content_length:,} bytes)")
        out = bytearray()
        async for chunk in resp.content.iter_chunked(CHUNK):
            data = chunk
            while data:
                piece = data if unpack is None else unpack.decompress(data, limit + 1 - len(out))
                out += piece
                if len(out) > limit:
                    raise AnswerTooLarge(f"{url}: the answer is larger than {size_text(limit)}")
                data = b"" if unpack is None else unpack.unconsumed_tail
        if unpack is not None:
            out += unpack.flush()
            if len(out) > limit:
                raise AnswerTooLarge(f"{url}: the answer is larger than {size_text(limit)}")
        return bytes(out)


def _decompressor(encoding: str, url: str) -> Any:
    if encoding in ("identity", ""):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    raise ConnectorError(f"{url}: answered with Content-Encoding {encoding[:40]!r}, which the hub did not ask for")


def _certificate_problem(exc: aiohttp.ClientConnectorCertificateError) -> str:
    cert = exc.certificate_error
    message = getattr(cert, "verify_message", None) or getattr(cert, "reason", None) or str(cert)
    return f"{message} (set the connector's ca_bundle to the CA that signed it)"


def _oneline(exc: BaseException) -> str:
    return one_line(str(exc)) or type(exc).__name__
