"""`hub init`: what the compose file's init step runs before the workers: one line per problem, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.conftest import TEST_KEYS

pytestmark = [pytest.mark.broker, pytest.mark.e2e]


def hub(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )


async def test_init_refuses_a_missing_keyring_then_prepares_everything(broker, tmp_path, keyring_file, ledger_url):
    env = {
        "HUB_KAFKA__BOOTSTRAP": broker.bootstrap,
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_LEDGER_URL": ledger_url,
    }
    missing = hub("init", env={**env, "HUB_SIGNING__KEYRING": str(tmp_path / "none.json")})
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        f"hub: error: keyring {tmp_path / 'none.json'} is missing or holds no publisher keys: register each"
        " publishing organisation with `hub keys new --org ORG --side EU|NATO` (see deploy/README.md)"
    ]
    done = hub("init", env={**env, "HUB_SIGNING__KEYRING": str(keyring_file)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"keyring {keyring_file}: {len(TEST_KEYS)} publisher keys; hub key ")
    assert (tmp_path / "data" / "keys" / "hub.pem").is_file()
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        assert {"hub.submitted", "eu.inbox", "nato.inbox", "hub.decisions", "hub.rejected"} <= set(
            await admin.list_topics()
        )
    finally:
        await admin.close()
