"""`hub misp ...` through the real command: one-line errors, feed import and export with a running worker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from schemas.common import Side
from tests.connectors.conftest import fixture_event
from tests.connectors.helpers import decisions, hub_settings, inbox_holds, write_feed

pytestmark = pytest.mark.e2e


def hub(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_wrong_key_is_one_line_on_stderr(misp_servers, tmp_path):
    server = misp_servers()
    args = ("misp", "pull", "--side", "eu", "--url", server.url, "--allow-http", "--once")
    done = hub(*args, env={"HUB_DATA_DIR": str(tmp_path), "HUB_MISP_KEY": "wrong"})
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"hub: error: MISP at {server.url} refused the API key: check the connector's key or key file"
    ]


def test_the_api_key_is_never_taken_from_the_command_line(misp_servers, tmp_path):
    server = misp_servers()
    args = ("misp", "pull", "--side", "eu", "--url", server.url, "--allow-http", "--once")
    done = hub(*args, "--key", server.key, env={"HUB_DATA_DIR": str(tmp_path)})
    assert (done.returncode, done.stderr) == (
        2,
        "hub: error: --key would show the MISP API key to every user of this machine (ps, /proc); "
        "give --key-file FILE or set HUB_MISP_KEY\n",
    )
    assert server.state.calls == []
    done = hub(*args, env={"HUB_DATA_DIR": str(tmp_path)})
    no_key = "hub: error: no MISP API key: give --key-file FILE or set HUB_MISP_KEY\n"
    assert (done.returncode, done.stderr) == (2, no_key)
    (tmp_path / "key").write_text(server.key + "\n")
    done = hub(*args, "--key-file", str(tmp_path / "key"), env={"HUB_DATA_DIR": str(tmp_path)})
    assert server.state.calls[0] == "GET servers/getVersion"  # the key from the file was accepted
    assert "refused the API key" not in done.stderr


def test_plain_http_is_refused_unless_allowed(misp_servers, tmp_path):
    server = misp_servers()
    done = hub("misp", "push", "--side", "nato", "--url", server.url, "--once", env={"HUB_MISP_KEY": server.key})
    assert done.returncode == 2
    assert done.stderr.startswith(f"hub: error: `url` '{server.url}' is plain HTTP: the API key and the events")
    assert server.state.calls == []


def test_bad_side_is_a_usage_error(tmp_path):
    done = hub("misp", "feed-import", str(tmp_path), "--side", "un")
    assert done.returncode == 2
    assert "'un' is not one of eu, nato" in done.stderr


@pytest.mark.broker
async def test_feed_import_then_export_through_the_hub(broker, ledger_url, start_worker, worker_env, tmp_path):
    events = [fixture_event("57c4445b-c548-4654-af0b-4be3950d210f.json"), fixture_event("existing_event.json")]
    write_feed(tmp_path / "eu-feed", events)
    key = hub_settings(broker.bootstrap, tmp_path, Side.EU).signing.key_file
    start_worker()
    env = {**worker_env, "HUB_DATA_DIR": str(tmp_path / "cli"), "HUB_SIGNING__KEY_FILE": str(key)}
    done = hub("misp", "feed-import", str(tmp_path / "eu-feed"), "--side", "eu", "--once", env=env)
    assert (done.returncode, done.stdout) == (0, "submitted 2 MISP events from EU to hub.submitted\n"), done.stderr
    assert [r.decision for r in await decisions(ledger_url, 2)] == ["delivered", "delivered"]
    await inbox_holds(broker.bootstrap, "NATO", 2)
    done = hub("misp", "feed-export", str(tmp_path / "nato-feed"), "--side", "nato", "--once", env=env)
    assert done.stdout == "applied 2 deliveries to NATO: 2 added, 0 updated, 0 unchanged, 0 skipped, 0 refused\n"
    assert sorted(p.name for p in (tmp_path / "nato-feed").iterdir()) == sorted(
        ["manifest.json", "hashes.csv", *(f"{e['uuid']}.json" for e in events)]
    )
    again = hub("misp", "feed-import", str(tmp_path / "eu-feed"), "--side", "eu", "--once", env=env)
    assert again.stdout == "submitted 0 MISP events from EU to hub.submitted\n"  # the watermark held


@pytest.mark.broker
async def test_feed_import_with_a_truncated_file_delivers_the_others_and_exits_non_zero_naming_it(
    broker, ledger_url, start_worker, worker_env, tmp_path
):
    events = [fixture_event("57c4445b-c548-4654-af0b-4be3950d210f.json"), fixture_event("existing_event.json")]
    write_feed(tmp_path / "eu-feed", events)
    broken = tmp_path / "eu-feed" / f"{events[1]['uuid']}.json"
    broken.write_bytes(broken.read_bytes()[:100])  # cut short, as by a copy that died
    key = hub_settings(broker.bootstrap, tmp_path, Side.EU).signing.key_file
    start_worker()
    env = {**worker_env, "HUB_DATA_DIR": str(tmp_path / "cli"), "HUB_SIGNING__KEY_FILE": str(key)}
    done = hub("misp", "feed-import", str(tmp_path / "eu-feed"), "--side", "eu", "--once", env=env)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("submitted 1 MISP event from EU to hub.submitted")
    [line] = [x for x in done.stderr.splitlines() if x.startswith("hub: skipped")]
    assert line.startswith(f"hub: skipped 1 unreadable feed file(s) in {tmp_path / 'eu-feed'}: {broken.name} (")
    assert [r.decision for r in await decisions(ledger_url, 1)] == ["delivered"]
