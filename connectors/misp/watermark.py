"""A source's saved progress: the highest version seen and the version of every event submitted.

Saved atomically (temporary file, then rename) only after the hub acknowledged the submissions,
so a crash re-submits at most what was in flight, and the hub's dedupe absorbs that.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hub.errors import ConnectorError


class Watermark:
    """Per-event versions and the highest one, in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.versions: dict[str, int] = {}
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.versions = {str(k): int(v) for k, v in data.get("versions", {}).items()}
            except (OSError, ValueError, AttributeError, TypeError) as exc:
                problem = f"watermark {path} is unreadable ({exc}); delete it to pull everything again"
                raise ConnectorError(problem) from exc

    @property
    def since(self) -> int:
        """The highest version seen, 0 before the first run."""
        return max(self.versions.values(), default=0)

    def is_new(self, key: str, version: int) -> bool:
        """True when `key` was never submitted at `version` or later."""
        return version > self.versions.get(key, -1)

    def mark(self, key: str, version: int) -> None:
        """Record that `key` was submitted at `version`."""
        if self.is_new(key, version):
            self.versions[key] = version

    def save(self) -> None:
        """Write the file atomically."""
        write_atomic(self.path, json.dumps({"versions": self.versions}, sort_keys=True).encode())


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
