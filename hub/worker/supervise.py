"""Running a hub worker as a child process: start, wait until ready, kill, restart.

Used by `hub demo` and by the crash tests, which SIGKILL the worker while the broker lives on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from hub.errors import HubError

READY_MARK = "ready: processing"
READY_TIMEOUT_S = 60.0  # worst case on a loaded 2-core CI machine; ~1-2 s is normal


class WorkerProcess:
    """`python -m hub up` in a child process, its log in `log_path`."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()

    def start(self) -> WorkerProcess:
        """Spawn the worker."""
        self._ready.clear()
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "hub", "up"], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        return self

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None  # noqa: S101 - set by Popen(stdout=PIPE); stderr joins it
        with self.log_path.open("ab") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if READY_MARK.encode() in line:
                    self._ready.set()

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        """Block until the worker has its partitions; returns the seconds waited."""
        start = time.monotonic()
        while not self._ready.wait(0.05):
            if self.proc is None or self.proc.poll() is not None:
                raise HubError(f"the worker exited during start-up; see {self.log_path}")
            if time.monotonic() - start > timeout:
                raise HubError(f"the worker was not ready within {timeout:.0f} s; see {self.log_path}")
        return time.monotonic() - start

    def kill(self) -> None:
        """SIGKILL the worker, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def terminate(self, timeout: float = 60.0) -> tuple[int | None, float]:
        """SIGTERM, as an orchestrator stops a worker; (exit code, seconds until it exited), SIGKILL after `timeout`."""
        if self.proc is None or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), 0.0
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        return self.proc.returncode, time.monotonic() - start

    def stop(self, timeout: float = 20.0) -> int | None:
        """Ask the worker to stop (SIGINT, then SIGKILL after `timeout`); returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode
