"""A hostile MISP peer: the answers a broken or malicious MISP gives, for `MispState.hostile`.

Each function returns a `Hostile` (method, path, body) -> Reply | None that answers the requests it
matches and lets the loopback MISP answer the others as MISP would.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from functools import cache
from typing import Any, BinaryIO

from tests.connectors.misp_server import Hostile, MispState, Reply


def when(prefix: str, reply: Reply | None = None, method: str | None = None, make=None) -> Hostile:
    """Answer requests whose path starts with `prefix` (and `method`) with `reply`, or `make(body)`."""

    def hostile(command: str, path: str, body: dict[str, Any]) -> Reply | None:
        if path.startswith(prefix) and (method is None or command == method):
            return make(body) if make is not None else reply
        return None

    return hostile


def raw(text: str | bytes, status: int = 200, **headers: str) -> Reply:
    """The body exactly as given (JSON a Python json.dumps could never write, say)."""
    return Reply(status, text.encode() if isinstance(text, str) else text, dict(headers))


def answer(doc: Any, status: int = 200, **headers: str) -> Reply:
    """A JSON answer."""
    return Reply(status, json.dumps(doc).encode(), dict(headers))


def endless(state: MispState) -> Reply:
    """An answer that never ends: an index row after an index row, as fast as the socket takes them."""
    row = b'{"uuid":"5a3c2fcd-8328-42bb-a95e-4f4402de0b81","timestamp":"1"},' * 1000

    def stream(out: BinaryIO) -> None:
        out.write(b"[")
        while not state.stopping.is_set():
            out.write(row)

    return Reply(200, stream=stream)


def trickle(state: MispState, every_s: float) -> Reply:
    """An answer of one byte every `every_s` seconds, for ever: each read finishes, the answer never does."""

    def stream(out: BinaryIO) -> None:
        while not state.stopping.wait(every_s):
            out.write(b" ")
            out.flush()

    return Reply(200, stream=stream)


@cache
def bomb_bytes(expands_to: int = 1024**3) -> bytes:
    """A gzip stream of `expands_to` zero bytes (1 GiB: ~1 MB on the wire)."""
    pack = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1024 * 1024)
    parts = [pack.compress(zeros) for _ in range(expands_to // len(zeros))]
    return b"".join(parts) + pack.flush()


def bomb() -> Reply:
    """A gzip bomb: 1 MB that expands to 1 GiB."""
    return Reply(200, bomb_bytes(), {"Content-Encoding": "gzip"})


def gzipped(doc: Any) -> Reply:
    """A well-behaved compressed answer."""
    return Reply(200, gzip.compress(json.dumps(doc).encode()), {"Content-Encoding": "gzip"})


def silent(state: MispState) -> Hostile:
    """A peer that accepts every connection and never answers (until the server stops)."""

    def hostile(command: str, path: str, body: dict[str, Any]) -> Reply | None:
        state.stopping.wait()
        return Reply(503)

    return hostile


def chain(*handlers: Hostile) -> Hostile:
    """The first handler that answers."""

    def hostile(command: str, path: str, body: dict[str, Any]) -> Reply | None:
        for handler in handlers:
            found = handler(command, path, body)
            if found is not None:
                return found
        return None

    return hostile


class Switch:
    """A hostile behaviour that a test changes while connectors run: `switch.to(handler)`, `switch.off()`."""

    def __init__(self, state: MispState) -> None:
        self.state = state
        self.handler: Hostile | None = None
        self.lock = threading.Lock()
        self.since = time.monotonic()
        state.hostile = self

    def to(self, handler: Hostile | None) -> None:
        """Behave as `handler` from now on (None: as MISP)."""
        with self.lock:
            self.handler = handler
            self.since = time.monotonic()

    def off(self) -> None:
        """Behave as MISP again."""
        self.to(None)

    def __call__(self, command: str, path: str, body: dict[str, Any]) -> Reply | None:
        with self.lock:
            handler = self.handler
        return handler(command, path, body) if handler is not None else None
