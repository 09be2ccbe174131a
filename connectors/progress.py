"""A progress line on stderr for long runs; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

REFRESH_S = 0.2  # redraw at most five times a second


class Progress:
    """`label done/total (rate/s)` redrawn in place."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.start = time.monotonic()
        self._last = 0.0
        self._width = 0

    def update(self, done: int, total: int | None = None, force: bool = False) -> None:
        """Show `done` of `total` items."""
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < REFRESH_S):
            return
        self._last = now
        rate = done / max(now - self.start, 1e-6)
        of = f"/{total}" if total else ""
        line = f"{self.label} {done}{of} ({rate:.0f}/s)"
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """End the line."""
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
