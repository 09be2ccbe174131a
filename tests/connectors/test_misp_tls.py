"""TLS to a MISP: a CA-bundle setting, one line naming a certificate problem, insecure mode warned once."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from connectors.http import tls_context
from connectors.misp.client import MispClient
from hub.errors import ConfigError, ConnectorError
from tests.connectors.certs import make_certificates
from tests.connectors.misp_server import MispServer


@pytest.fixture
def tls_misp(tmp_path):
    ca, cert, key = make_certificates(tmp_path)
    with MispServer(tls=(str(cert), str(key))) as server:
        yield server, ca


async def test_a_ca_bundle_lets_the_connector_trust_its_misp(tls_misp):
    server, ca = tls_misp
    client = MispClient(server.url, server.key, tls_context(True, ca, server.url))
    await client.check()
    await client.close()
    assert server.state.calls == ["GET servers/getVersion"]


async def test_an_unknown_ca_is_one_line_naming_the_problem(tls_misp):
    server, _ = tls_misp
    client = MispClient(server.url, server.key, tls_context(True, None, server.url))
    with pytest.raises(ConnectorError) as caught:
        await client.check()
    await client.close()
    assert str(caught.value) == (
        f"{server.url}servers/getVersion: TLS certificate refused: unable to get local issuer certificate "
        "(set the connector's ca_bundle to the CA that signed it)"
    )
    assert server.state.calls == []  # the key never went out


async def test_insecure_mode_is_warned_once_per_run(tls_misp, caplog):
    server, _ = tls_misp
    with caplog.at_level(logging.WARNING, logger="hub.connectors"):
        for _ in range(3):  # a connector restarted by its supervisor builds its client again
            client = MispClient(server.url, server.key, tls_context(False, None, server.url))
            await client.check()
            await client.close()
    warnings = [r.getMessage() for r in caplog.records if "NOT verified" in r.getMessage()]
    assert warnings == [f"TLS certificate of {server.url} is NOT verified (verify_tls = false / --insecure)"]


@pytest.mark.parametrize("bundle", ["/dev/zero", "missing.pem", "not-pem.pem"])
def test_an_unusable_ca_bundle_is_one_line(tmp_path, bundle):
    (tmp_path / "not-pem.pem").write_text("hello\n")
    path = tmp_path / bundle if not bundle.startswith("/") else bundle
    with pytest.raises(ConfigError, match=r"^CA bundle .* (is not a regular file|cannot be read|holds no usable)"):
        tls_context(True, path, "https://misp.example/")


def test_the_cli_says_which_certificate_problem_in_one_line(tls_misp, tmp_path):
    server, ca = tls_misp
    args = [sys.executable, "-m", "hub", "misp", "pull", "--side", "eu", "--url", server.url, "--once"]
    env = {**os.environ, "HUB_MISP_KEY": server.key, "HUB_DATA_DIR": str(tmp_path)}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"hub: error: {server.url}servers/getVersion: TLS certificate refused: unable to get local issuer "
        "certificate (set the connector's ca_bundle to the CA that signed it)"
    ]
