"""Every bad setting and every hostile `hub publish` input of issue 17: one line, exit 2, bounded memory.

Each row runs the real `hub` command. Large inputs are streamed into its stdin by a thread (a
gigabyte is never held by the test); the child's peak resident set comes from `tests/peak.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.demo.scenario import mixed
from tests.peak import measured, peak_kb

pytestmark = pytest.mark.e2e
GIB = 1024**3
MEMORY_LIMIT_KB = 400 * 1024  # a gigabyte of input must cost far less: the largest item (64 MiB) and a chunk
GOOD = mixed(total=2, duplicates=0, updates=0, red=0, malformed_n=0).items[0]
NOWHERE = {"HUB_KAFKA__BOOTSTRAP": "127.0.0.1:9"}  # never reached: the input is refused first


def gigabyte_after(first: bytes) -> Callable[[], Iterator[bytes]]:
    """`first`, then JSON lines up to a gigabyte."""

    def chunks() -> Iterator[bytes]:
        yield first + b"\n"
        line = GOOD + b"\n"
        block = line * (1024 * 1024 // len(line))
        for _ in range(GIB // len(block)):
            yield block

    return chunks


def one_huge_item() -> Iterator[bytes]:
    """A JSON array whose first item is a one-gigabyte string."""
    yield b'[{"kind": "assessment", "payload": {"title": "'
    block = b"x" * (1024 * 1024)
    for _ in range(1024):
        yield block


def deep_toml(tmp: Path) -> Path:
    path = tmp / "deep.toml"
    path.write_text("a = " + "[" * 10_000 + "]" * 10_000 + "\n")
    return path


def feed_without_manifest(tmp: Path) -> Path:
    (tmp / "feed").mkdir()
    (tmp / "feed" / "0b0b0b0b-0000-4000-8000-000000000000.json").write_text('{"Event": {}}')
    return tmp / "feed"


# (name, argv after `hub`, environment, stdin, what the one line must say); callables take the test's tmp_path
ROWS: list[tuple[str, Callable[[Path], list[str]], dict[str, str], object, str]] = [
    ("session timeout inf", lambda t: ["counts"], {"HUB_KAFKA__SESSION_TIMEOUT_S": "inf"}, None,
     "setting `kafka.session_timeout_s`: Input should be a finite number"),
    ("session timeout 1e308", lambda t: ["counts"], {"HUB_KAFKA__SESSION_TIMEOUT_S": "1e308"}, None,
     "setting `kafka.session_timeout_s`: Input should be less than or equal to 1800"),
    ("batch wait nan", lambda t: ["counts"], {"HUB_PIPELINE__BATCH_WITHIN_S": "nan"}, None,
     "setting `pipeline.batch_within_s`: Input should be a finite number"),
    ("TOML nested 10,000 deep", lambda t: ["--config", str(deep_toml(t)), "counts"], {}, None,
     "deep.toml: nested too deeply to be a hub config"),
    ("/dev/zero as config file", lambda t: ["--config", "/dev/zero", "counts"], {}, None,
     "config file /dev/zero is not a regular file"),
    ("/dev/zero as key file", lambda t: ["publish", "-"], {**NOWHERE, "HUB_SIGNING__KEY_FILE": "/dev/zero"}, GOOD,
     "signing key /dev/zero is not a regular file"),
    ("/dev/zero as keyring", lambda t: ["keys", "list"], {"HUB_SIGNING__KEYRING": "/dev/zero"}, None,
     "keyring /dev/zero is not a regular file"),
    ("/dev/zero as policy file", lambda t: ["policy", "check", "/dev/zero"], {}, None,
     "policy /dev/zero is not a regular file"),
    ("/dev/zero as policy setting", lambda t: ["policy", "show"], {"HUB_POLICY_FILE": "/dev/zero"}, None,
     "policy /dev/zero is not a regular file"),
    ("interval_s 1e-300", lambda t: ["counts"],
     {"HUB_CONNECTORS": '[{"type": "feed", "side": "EU", "dir": "/tmp", "interval_s": 1e-300}]'}, None,
     "setting `connectors.0.interval_s`: Input should be greater than or equal to 1"),
    ("connectors nested 10,000 deep", lambda t: ["counts"], {"HUB_CONNECTORS": "[" * 10_000}, None,
     "settings from the environment:"),
    ("plain http:// connector", lambda t: ["counts"],
     {"HUB_CONNECTORS": '[{"type": "rest", "side": "EU", "url": "http://misp.example/", "key": "k"}]'}, None,
     "setting `connectors.0`: `url` 'http://misp.example/' is plain HTTP"),
    ("empty bootstrap, hub up", lambda t: ["up"], {"HUB_KAFKA__BOOTSTRAP": ""}, None,
     "setting `kafka.bootstrap`: is empty; unset it for the embedded broker, or give host:port[,host:port]"),
    ("empty bootstrap, hub publish", lambda t: ["publish", "-"], {"HUB_KAFKA__BOOTSTRAP": ""}, GOOD,
     "setting `kafka.bootstrap`: is empty; unset it for the embedded broker, or give host:port[,host:port]"),
    ("bootstrap without a port", lambda t: ["counts"], {"HUB_KAFKA__BOOTSTRAP": "kafka-1"}, None,
     "setting `kafka.bootstrap`: 'kafka-1' is not host:port"),
    ("feed directory without a manifest", lambda t: ["misp", "feed-import", str(feed_without_manifest(t)), "--side",
     "eu", "--once"], {}, None, "feed has no manifest.json: it is not a MISP feed directory"),
    ("MISP key on the command line", lambda t: ["misp", "pull", "--side", "eu", "--url", "https://m.example/", "--key",
     "s3cret"], {}, None, "--key would show the MISP API key to every user of this machine"),
    ("/dev/zero as MISP key file", lambda t: ["up"],
     {"HUB_CONNECTORS": '[{"type": "rest", "side": "EU", "role": "sink", "url": "https://m.example/", '
      '"key_file": "/dev/zero"}]'}, None, "MISP key file /dev/zero is not a regular file"),
    ("lone surrogate in an array", lambda t: ["publish", "-"], NOWHERE, b'[{"kind": "assessment", "x": "\\ud800"}]',
     "-: item 1: "),
    ("1 GB on stdin, item 1 bad", lambda t: ["publish", "-"], NOWHERE, gigabyte_after(b'{"kind": "podcast"}'),
     "-: item 1: field `kind`: 'podcast' is not one of assessment, stratcom_note, misp_event"),
    ("1 GB on stdin, item 3 bad", lambda t: ["publish", "-"], NOWHERE, gigabyte_after(GOOD + b"\n" + GOOD + b"\n{}"),
     "-: item 3: field `kind`: is missing"),
    ("a 1 GB item", lambda t: ["publish", "-"], NOWHERE, one_huge_item, "-: item 1 is larger than 64 MiB"),
    ("/dev/zero as input", lambda t: ["publish", "/dev/zero"], NOWHERE, None,
     "/dev/zero: item 1 is not JSON: it starts with byte b'\\x00'"),
    ("nested 100,000 deep", lambda t: ["publish", "-"], NOWHERE, b"[" * 100_000, "-: item 1 is nested more than 1000"),
    ("NaN", lambda t: ["publish", "-"], NOWHERE, b'{"kind": NaN}', "-: item 1: NaN is not a JSON number"),
    ("not JSON", lambda t: ["publish", "-"], NOWHERE, b"hello", "-: item 1 is not JSON: it starts with 'h'"),
    ("not UTF-8", lambda t: ["publish", "-"], NOWHERE, b'{"kind": "\xff"}', "-: item 1: "),
    ("an empty array", lambda t: ["publish", "-"], NOWHERE, b"[ ]", "-: the array holds no items, nothing to publish"),
    ("data after the array", lambda t: ["publish", "-"], NOWHERE, b"[" + GOOD + b"] []",
     "-: after the array's ']': more data; give one array, or JSON lines"),
    ("empty input", lambda t: ["publish", "-"], NOWHERE, b" \n", "-: empty input, nothing to publish"),
]  # fmt: skip


def run(argv: list[str], env: dict[str, str], stdin: object, tmp: Path) -> tuple[int, str, int, float]:
    """(exit code, stderr, peak RSS in kB, seconds) of `hub argv` fed `stdin` (bytes or a chunk generator)."""
    full_env = {**os.environ, "HUB_DATA_DIR": str(tmp / "data"), **env}
    for name in [k for k in full_env if k.startswith("HUB_") and k not in env and k != "HUB_DATA_DIR"]:
        del full_env[name]  # only the row's own settings
    start = time.monotonic()
    with (tmp / "stderr").open("wb") as err:
        proc = subprocess.Popen(
            measured([sys.executable, "-m", "hub", *argv], tmp / "peak"),
            env=full_env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        if stdin is not None:
            threading.Thread(target=_feed, args=(proc, stdin), daemon=True).start()
        proc.wait()
    return proc.returncode, (tmp / "stderr").read_text(), peak_kb(tmp / "peak"), time.monotonic() - start


def _feed(proc: subprocess.Popen[bytes], stdin: object) -> None:
    assert proc.stdin is not None
    try:
        for chunk in stdin() if callable(stdin) else [stdin]:
            proc.stdin.write(chunk)
        proc.stdin.close()
    except (BrokenPipeError, ValueError, OSError):
        pass  # the command stopped reading: it found what it needed


@pytest.mark.parametrize(("argv", "env", "stdin", "says"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_each_bad_setting_and_input_is_one_line_and_exit_2(tmp_path, argv, env, stdin, says):
    code, stderr, peak_kb, took = run(argv(tmp_path), env, stdin, tmp_path)
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr[-3000:]
    assert lines[0].startswith("hub: error: ")
    assert says in lines[0]
    assert code == 2
    assert peak_kb < MEMORY_LIMIT_KB
    print(f"\n{lines[0][:110]} | exit {code}, {peak_kb / 1024:.0f} MiB, {took:.1f} s")
