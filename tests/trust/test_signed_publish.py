"""Signing end to end: `hub keys new`, `hub publish` with the key, `hub up` verifying on the embedded broker."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from hub.demo.scenario import BASE_TIME, envelope

pytestmark = pytest.mark.e2e


def hub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, timeout=120, env=env)


def wait_for(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def totals(env: dict[str, str]) -> dict[str, int]:
    done = hub("counts", "--json", env=env)
    return json.loads(done.stdout)["totals"] if done.returncode == 0 else {}


def test_a_registered_key_publishes_and_cannot_speak_for_the_other_side(tmp_path):
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "data")}
    made = hub("keys", "new", "--org", "EU Hybrid Fusion Cell", "--side", "EU", env=env)
    assert made.returncode == 0, made.stderr
    key_file = made.stdout.splitlines()[1].split()[2]
    rng = random.Random(16)
    own = [envelope(rng, "assessment", "EU", BASE_TIME + timedelta(minutes=i)) for i in range(3)]
    as_nato = envelope(rng, "assessment", "NATO", BASE_TIME)
    (tmp_path / "items.jsonl").write_text("\n".join(json.dumps(d) for d in [*own, as_nato]))

    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen([sys.executable, "-m", "hub", "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: "ready: processing" in log.read_text(), 60), log.read_text()
        unsigned = hub("publish", str(tmp_path / "items.jsonl"), env=env)
        assert unsigned.returncode == 2
        assert unsigned.stderr.startswith("hub: error: no signing key: set HUB_SIGNING__KEY_FILE")
        signed = hub("publish", str(tmp_path / "items.jsonl"), env={**env, "HUB_SIGNING__KEY_FILE": key_file})
        assert signed.returncode == 0, signed.stderr
        assert wait_for(lambda: sum(totals(env).values()) == 4, 60)
        assert totals(env) == {"delivered": 3, "updated": 0, "duplicate": 0, "withheld": 0, "rejected": 1}
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(30)
