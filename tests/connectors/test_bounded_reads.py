"""Bounded reads through the real commands: a gzip bomb and an endless answer cost a bounded amount of
memory and end in one line; `hub up` stops within its grace while a peer is silent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from schemas.common import Side
from tests.connectors.helpers import hub_settings
from tests.connectors.hostile import bomb, endless, raw, silent, when
from tests.peak import measured, peak_kb

pytestmark = [pytest.mark.broker, pytest.mark.e2e]
MEMORY_LIMIT_KB = 512 * 1024  # issue 17: the connector process stays under 512 MiB
GRACE_S = 10.0  # `hub up` must be gone this long after SIGTERM, whatever a peer does
U1 = "5a3c2fcd-8328-42bb-a95e-4f4402de0b81"


def pull_once(server, broker, tmp_path) -> tuple[int, str, int]:
    """`hub misp pull --once` against `server`: (exit code, stderr, peak resident set in kB)."""
    key = hub_settings(broker.bootstrap, tmp_path, Side.EU).signing.key_file
    env = {
        **os.environ,
        "HUB_MISP_KEY": server.key,
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_KAFKA__BOOTSTRAP": broker.bootstrap,
        "HUB_SIGNING__KEY_FILE": str(key),
        "HUB_LEDGER_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
    }
    args = [sys.executable, "-m", "hub", "misp", "pull", "--side", "eu", "--url", server.url, "--allow-http", "--once"]
    with (tmp_path / "stderr").open("wb") as err, (tmp_path / "stdout").open("wb") as out:
        proc = subprocess.Popen(measured(args, tmp_path / "peak"), env=env, stdout=out, stderr=err)
        proc.wait()  # the launcher gives the child's own peak RSS, not the test's (tests/peak.py)
    return proc.returncode, (tmp_path / "stderr").read_text(), peak_kb(tmp_path / "peak")


@pytest.mark.parametrize("answer", ["gzip bomb", "endless"])
def test_a_hostile_index_fails_the_pull_in_one_line_within_bounded_memory(broker, misp_servers, tmp_path, answer):
    server = misp_servers()
    reply = (lambda _: bomb()) if answer == "gzip bomb" else (lambda _: endless(server.state))
    server.state.hostile = when("events/index", make=reply)
    code, stderr, peak_kb = pull_once(server, broker, tmp_path)
    print(f"\n{answer} as the index: exit {code}, peak RSS {peak_kb / 1024:.0f} MiB")
    assert code == 1
    assert stderr.splitlines() == [f"hub: error: {server.url}events/index: the answer is larger than 8 MiB"]
    assert peak_kb < MEMORY_LIMIT_KB


@pytest.mark.parametrize("answer", ["gzip bomb", "endless"])
def test_a_hostile_event_is_refused_and_the_pull_goes_on(broker, misp_servers, tmp_path, answer):
    server = misp_servers()
    for n, uuid in enumerate((U1, U1[:-1] + "2")):
        server.state.add({"Event": {"uuid": uuid, "info": "x", "timestamp": str(1000 + n), "published": True}})
    reply = (lambda _: bomb()) if answer == "gzip bomb" else (lambda _: endless(server.state))
    server.state.hostile = when(f"events/view/{U1}", make=reply)
    code, stderr, peak_kb = pull_once(server, broker, tmp_path)
    print(f"\n{answer} as an event: exit {code}, peak RSS {peak_kb / 1024:.0f} MiB")
    assert code == 0, stderr
    assert (tmp_path / "stdout").read_text() == (
        "submitted 1 MISP event from EU to hub.submitted; 1 refused (see hub audit refusals)\n"
    )
    refused = f"{U1} not submitted: {server.url}events/view/{U1}: the answer is larger than 64 MiB"
    assert [line for line in stderr.splitlines() if line.endswith(refused)] != []
    assert "Traceback" not in stderr
    assert peak_kb < MEMORY_LIMIT_KB


def test_sigterm_ends_hub_up_within_its_grace_while_the_peer_is_silent(broker, start_worker, misp_servers, tmp_path):
    server = misp_servers()
    server.state.hostile = silent(server.state)
    key = hub_settings(broker.bootstrap, tmp_path, Side.EU).signing.key_file
    connector = {"type": "rest", "side": "EU", "url": server.url, "key": server.key, "allow_http": True}
    worker = start_worker(HUB_CONNECTORS=json.dumps([connector]), HUB_SIGNING__KEY_FILE=str(key))
    deadline = time.monotonic() + 30
    while len(server.state.calls) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.state.calls, "the connector never asked its peer"
    time.sleep(1.0)  # the requests are now waiting on a peer that will not answer (for 300 s)
    start = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    code = worker.proc.wait(GRACE_S + 5)
    took = time.monotonic() - start
    print(f"\nSIGTERM with a silent peer: exit {code} after {took:.1f} s")
    assert took < GRACE_S
    assert code == 0


@pytest.mark.parametrize(
    ("index", "code", "says"),
    [
        ("[1]", 0, "submitted 0 MISP events from EU to hub.submitted\n"),
        ("[null]", 0, "submitted 0 MISP events from EU to hub.submitted\n"),
        ('["x"]', 0, "submitted 0 MISP events from EU to hub.submitted\n"),
        (f'[{{"uuid": "{U1}", "timestamp": 1e999}}]', 0, "submitted 0 MISP events from EU to hub.submitted\n"),
        ("{}", 1, "MISP at {url}: events/index answered dict, not a list"),
        ("[" * 100_000, 1, "{url}events/index answered HTTP 200 with a body that is not JSON"),
    ],
    ids=["int", "null", "string", "1e999", "object", "nested-100000"],
)
def test_hub_misp_pull_meets_each_hostile_index_without_a_traceback(broker, misp_servers, tmp_path, index, code, says):
    server = misp_servers()
    server.state.hostile = when("events/index", raw(index))
    got, stderr, _ = pull_once(server, broker, tmp_path)
    assert got == code
    assert "Traceback" not in stderr
    if code == 0:
        assert (tmp_path / "stdout").read_text() == says
    else:
        assert stderr.splitlines() == [f"hub: error: {says.format(url=server.url)}"]
