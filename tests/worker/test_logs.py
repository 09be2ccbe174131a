"""`HUB_LOG_FORMAT=json`: every line a JSON object, a summary per batch at INFO, no secret, every credential set.

The worker runs with every credential setting the hub has: a ledger URL with a password (the
local PostgreSQL trusts the loopback, so the password is carried but not needed), a MISP
connector's API key (against the loopback MISP server), a publisher's private key file, the hub's
own key, and a SASL user and password. A second run turns SASL on against the embedded broker,
which cannot do it, so the secret also travels through an error path.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hub.config.keystore import write_private_key
from hub.demo.scenario import mixed
from hub.ledger import Ledger
from hub.worker.supervise import WorkerProcess
from tests.conftest import TEST_KEYS, publish
from tests.connectors.misp_server import MispServer

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.e2e]

SASL_PASSWORD = "Sasl-Pa55word-never-logged"
LEDGER_PASSWORD = "Ledger-Pa55word-never-logged"


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed as one JSON object (fails on the first line that is not)."""
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]
    assert all(isinstance(p, dict) and {"ts", "level", "logger", "message"} <= set(p) for p in parsed)
    return parsed


def secrets_in(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def pem_body(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("-----")]


async def test_json_logs_parse_line_by_line_and_hold_no_secret(broker, pg_url, worker_env, tmp_path):
    key_file = tmp_path / "keys" / "cert-eu.pem"
    write_private_key(TEST_KEYS[("EU", "CERT-EU")], key_file)
    ledger_url = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{LEDGER_PASSWORD}@")
    with MispServer() as misp:
        connector = {"type": "rest", "side": "EU", "role": "both", "url": misp.url, "key": misp.key, "interval_s": 1}
        connector["allow_http"] = True  # the loopback MISP speaks plain HTTP
        env = {
            **worker_env,
            "HUB_LEDGER_URL": ledger_url,
            "HUB_LOG_FORMAT": "json",
            "HUB_LOG_LEVEL": "DEBUG",
            "HUB_CONNECTORS": json.dumps([connector]),
            "HUB_SIGNING__KEY_FILE": str(key_file),
            "HUB_KAFKA__SASL_USERNAME": "hub",
            "HUB_KAFKA__SASL_PASSWORD": SASL_PASSWORD,
        }
        worker = WorkerProcess(env, tmp_path / "worker.log").start()
        try:
            worker.wait_ready()
            sc = mixed(total=60, duplicates=5, updates=5, red=5, malformed_n=5, seed=3)
            await publish(broker.bootstrap, sc.items)
            ledger = Ledger(ledger_url)
            while ledger.size() < 60:
                await asyncio.sleep(0.1)
            ledger.close()
            for _ in range(300):  # Faust starts its tasks once its own group has formed, ~2 s after ready
                if "connector misp-rest-eu-" in worker.log_path.read_text():
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)  # a connector round or two
            code, _ = await asyncio.to_thread(worker.terminate)
        finally:
            worker.stop()
        secrets = [SASL_PASSWORD, LEDGER_PASSWORD, misp.key, *pem_body(key_file)]
        hub_key = Path(env["HUB_DATA_DIR"]) / "keys" / "hub.pem"
        secrets += pem_body(hub_key) if hub_key.is_file() else []

    assert code == 0
    text = worker.log_path.read_text()
    logs = json_lines(text)
    assert secrets_in(text, secrets) == []
    messages = [entry["message"] for entry in logs]
    assert any(m.startswith("ready: processing hub.submitted") for m in messages)
    assert any(m.startswith("connector misp-rest-eu-") for m in messages)
    batches = [e for e in logs if e["message"].startswith("batch: ") and e["level"] == "INFO"]
    assert sum(b["batch"]["decided"] for b in batches) == 60  # one summary per batch, adding up to the run
    assert sum(sum(b["batch"]["decisions"].values()) for b in batches) == 60
    assert "postgresql://postgres:***@" in text  # the ledger is named, its password masked


def test_a_failing_sasl_login_logs_json_and_no_password(broker, tmp_path):
    env = {
        "HUB_KAFKA__BOOTSTRAP": broker.bootstrap,
        "HUB_DATA_DIR": str(tmp_path),
        "HUB_LOG_FORMAT": "json",
        "HUB_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "HUB_KAFKA__SASL_MECHANISM": "PLAIN",
        "HUB_KAFKA__SASL_USERNAME": "hub",
        "HUB_KAFKA__SASL_PASSWORD": SASL_PASSWORD,
    }
    done = subprocess.run(
        [sys.executable, "-m", "hub", "up"], env={**os.environ, **env}, capture_output=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stdout == b""
    text = done.stderr.decode()
    logs = json_lines(text)
    assert SASL_PASSWORD not in text
    assert logs[-1]["level"] == "ERROR"
    assert logs[-1]["message"].startswith(f"hub: error: Kafka at {broker.bootstrap}")
