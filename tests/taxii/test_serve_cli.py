"""`hub tokens` and `hub serve` end to end: a token printed once, stored hashed, opening TAXII until revoked."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import pytest
import requests

from hub.taxii.media import TAXII

pytestmark = pytest.mark.e2e


def hub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.slow  # six `hub` processes: ~20 s on a shared 2-core machine
def test_tokens_open_the_server_until_revoked_and_are_stored_hashed(tmp_path, ledger_url):
    env = {**os.environ, "HUB_LEDGER_URL": ledger_url, "HUB_DATA_DIR": str(tmp_path / "data")}
    made = hub(env, "tokens", "add", "NCIRC", "nato")
    assert made.returncode == 0, made.stderr
    token, note = made.stdout.splitlines()
    token_id = token.split("_")[1]
    assert note.startswith(f"token {token_id} for NCIRC (NATO)")
    stored = sqlite3.connect(ledger_url.removeprefix("sqlite:///")).execute("SELECT * FROM api_tokens").fetchall()
    assert token.split("_")[2] not in repr(stored)  # only a salted hash is kept
    assert token_id in hub(env, "tokens", "list").stdout
    bad = hub(env, "tokens", "add", "NCIRC", "mars")
    assert bad.returncode == 2
    assert "EU or NATO" in bad.stderr

    proc = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving at http://127.0.0.1:")
        url = line.split()[2].rstrip(":")
        headers = {"Accept": TAXII}
        assert requests.get(f"{url}taxii2/", headers=headers, timeout=10).status_code == 401
        opened = requests.get(f"{url}nato/", headers={**headers, "Authorization": f"Bearer {token}"}, timeout=10)
        assert opened.status_code == 200
        assert requests.get(f"{url}api/counts", timeout=10).status_code == 200  # the dashboard, same server
        assert hub(env, "tokens", "revoke", token_id).returncode == 0
        gone = requests.get(f"{url}nato/", headers={**headers, "Authorization": f"Bearer {token}"}, timeout=10)
        assert gone.status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert err.strip() == "hub: interrupted"
    again = hub(env, "tokens", "revoke", token_id)
    assert (again.returncode, again.stderr.strip()) == (
        2, f"hub: error: no live token with id '{token_id}' (see `hub tokens list`)"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("env", "args", "error"),
    [
        ({"HUB_SERVE__TLS_CERTFILE": "/nonexistent.pem", "HUB_SERVE__TLS_KEYFILE": "/nonexistent.key"}, [],
         "hub: error: serve.tls_certfile / tls_keyfile / tls_client_ca cannot be used: "
         "[Errno 2] No such file or directory"),
        ({}, ["--host", "192.0.2.1"], "hub: error: cannot listen on 192.0.2.1:0: Cannot assign requested address"),
    ],
)  # fmt: skip
def test_a_server_that_cannot_start_is_one_line(tmp_path, ledger_url, monkeypatch, capsys, env, args, error):
    from hub.cli.main import main

    for name, value in {"HUB_LEDGER_URL": ledger_url, "HUB_DATA_DIR": str(tmp_path), **env}.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0", *args]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == error
