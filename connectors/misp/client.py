"""PyMISP behind a small synchronous client: retries with backoff, and errors a person can act on.

PyMISP is synchronous: callers run these methods in a thread (`asyncio.to_thread`). Time-outs,
refused connections and HTTP 5xx are retried with exponential backoff; a wrong URL or a refused
key fails at once with one line naming the URL (the key is never printed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from connectors import Applied
from hub.errors import ConnectorError

T = TypeVar("T")
log = logging.getLogger("hub.misp")
RETRIES = 5  # attempts per call; with BACKOFF_S the last wait is 8 s, the whole ~15 s
BACKOFF_S = 0.5  # first wait; doubled after each failed attempt
TIMEOUT_S = (10.0, 300.0)  # connect, read: a 100,000-attribute event takes seconds to serialise
AUTH_FAILED = (401, 403)


class TransientError(Exception):
    """A failure worth retrying: time-out, refused connection, HTTP 5xx."""


def _errors(response: Any) -> tuple[int, str] | None:
    """PyMISP's `{"errors": (status, body)}` answer as (status, message), or None for a success."""
    if not isinstance(response, dict) or "errors" not in response:
        return None
    errors = response["errors"]
    if isinstance(errors, tuple | list) and len(errors) == 2 and isinstance(errors[0], int):
        body = errors[1]
        if isinstance(body, dict):
            text = " ".join(str(body.get(k, "")) for k in ("name", "message", "errors") if body.get(k))
            return errors[0], text or str(body)
        return errors[0], str(body)
    return 0, str(errors)


@dataclass
class MispClient:
    """One MISP instance reached with PyMISP."""

    url: str
    key: str
    verify_tls: bool = True
    retries: int = RETRIES
    backoff_s: float = BACKOFF_S

    def __post_init__(self) -> None:
        self._api: Any = None
        logging.getLogger("pymisp").setLevel(logging.CRITICAL)  # 4xx answers are handled here, not logged there

    def _refused(self) -> str:
        return f"MISP at {self.url} refused the API key: check --key or the connector's key"

    def _retry(self, what: str, call: Callable[[], T]) -> T:
        delay = self.backoff_s
        for attempt in range(1, self.retries + 1):
            try:
                return call()
            except TransientError as exc:
                if attempt == self.retries:
                    raise ConnectorError(f"MISP at {self.url}: {what} failed after {attempt} attempts: {exc}") from exc
                log.warning("MISP at %s: %s failed (%s); retrying in %.1f s", self.url, what, exc, delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _guard(self, call: Callable[[], T]) -> T:
        """Run one PyMISP call, turning transport failures and 5xx into TransientError."""
        from pymisp.exceptions import MISPServerError, PyMISPError

        try:
            return call()
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(type(exc).__name__) from exc
        except MISPServerError as exc:
            status = str(exc).split(":", 1)[0]
            if status.startswith("Error code 5"):
                raise TransientError(status) from exc
            raise ConnectorError(f"MISP at {self.url} answered {status}: is this the MISP base URL?") from exc
        except PyMISPError as exc:
            cause = exc.__context__
            if isinstance(cause, requests.Timeout | requests.ConnectionError):
                raise TransientError(type(cause).__name__) from exc
            if any(f"({code}," in str(exc) for code in AUTH_FAILED):
                raise ConnectorError(self._refused()) from exc
            raise ConnectorError(f"cannot use MISP at {self.url}: {str(exc)[:300]}") from exc
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot use MISP at {self.url}: {type(exc).__name__}: {exc}") from exc

    @property
    def api(self) -> Any:
        """The PyMISP object, connected on first use (which checks the URL and the key)."""
        if self._api is None:
            from pymisp import PyMISP

            def connect() -> Any:
                return PyMISP(self.url, self.key, ssl=self.verify_tls, timeout=TIMEOUT_S, tool="exchange-hub")

            self._api = self._retry("connecting", lambda: self._guard(connect))
        return self._api

    def _call(self, what: str, call: Callable[[Any], Any]) -> Any:
        api = self.api
        response = self._retry(what, lambda: self._guard(lambda: call(api)))
        failed = _errors(response)
        if failed is not None and failed[0] in AUTH_FAILED and "Authentication failed" in failed[1]:
            raise ConnectorError(self._refused())
        return response

    def index(self, since: int) -> list[dict[str, Any]]:
        """Published events changed at or after `since` (0: all): uuid, timestamp, published, ..."""
        response = self._call(
            "search_index",
            lambda api: api.search_index(minimal=True, published=True, timestamp=since or None),
        )
        failed = _errors(response)
        if failed is not None or not isinstance(response, list):
            raise ConnectorError(f"MISP at {self.url}: search_index failed: {failed or response!r:.300}")
        return response

    def event(self, uuid: str) -> dict[str, Any] | None:
        """The event body with its soft-deleted attributes, or None when it no longer exists."""
        response = self._call(f"get_event {uuid}", lambda api: api.get_event(uuid, deleted=[0, 1]))
        failed = _errors(response)
        if failed is not None:
            if failed[0] == 404:
                return None
            raise ConnectorError(f"MISP at {self.url}: get_event {uuid} failed: HTTP {failed[0]} {failed[1][:300]}")
        body = response.get("Event", response) if isinstance(response, dict) else None
        if not isinstance(body, dict):
            raise ConnectorError(f"MISP at {self.url}: get_event {uuid} returned no event")
        return body

    def put(self, event: dict[str, Any]) -> Applied:
        """Add the event by UUID, or edit it when strictly newer; an older or equal one is left alone."""
        uuid = str(event["uuid"])
        doc = {"Event": event}
        response = self._call(f"add_event {uuid}", lambda api: api.add_event(doc))
        failed = _errors(response)
        if failed is None:
            return Applied.ADDED
        if not (failed[0] == 403 and "already exists" in failed[1]):
            raise ConnectorError(f"MISP at {self.url}: add_event {uuid} failed: HTTP {failed[0]} {failed[1][:300]}")
        response = self._call(f"update_event {uuid}", lambda api: api.update_event(doc, event_id=uuid))
        failed = _errors(response)
        if failed is None:
            return Applied.UPDATED
        if "not newer" in failed[1]:
            return Applied.UNCHANGED  # MISP's own rule: equal or older is a no-op, not an error
        raise ConnectorError(f"MISP at {self.url}: update_event {uuid} failed: HTTP {failed[0]} {failed[1][:300]}")
