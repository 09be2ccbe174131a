"""The `hub` command end to end: errors are one line, success means acknowledged, no orphan broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.config.keystore import write_private_key
from hub.demo.scenario import mixed
from tests.conftest import TEST_KEYS, read_topic

pytestmark = pytest.mark.e2e


def hub(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def one_line_error(proc) -> str:
    err = proc.stderr.decode().strip()
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


async def test_publish_rejects_a_bad_file_and_sends_nothing(broker, tmp_path):
    items = mixed(total=5, duplicates=0, updates=0, red=0, malformed_n=0).items
    bad = json.loads(items[2])
    bad["markings"]["tlp"] = "PURPLE"
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"\n".join([items[0], items[1], json.dumps(bad).encode()]))
    proc = hub("publish", str(path), env={"HUB_KAFKA__BOOTSTRAP": broker.bootstrap})
    err = one_line_error(proc)
    allowed = "CLEAR, GREEN, AMBER, AMBER+STRICT, RED"
    assert err == f"hub: error: {path}: item 3: field `markings.tlp`: 'PURPLE' is not one of {allowed}"
    assert proc.returncode == 2
    assert await read_topic(broker.bootstrap, "hub.submitted", 1, timeout=2) == []


async def test_publish_sends_json_lines_array_and_stdin(broker, tmp_path):
    items = mixed(total=6, duplicates=0, updates=0, red=0, malformed_n=0).items
    key = tmp_path / "key.pem"
    write_private_key(TEST_KEYS[("EU", "CERT-EU")], key)
    env = {"HUB_KAFKA__BOOTSTRAP": broker.bootstrap, "HUB_SIGNING__KEY_FILE": str(key)}
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(items[:3]))
    (tmp_path / "b.json").write_text(json.dumps([json.loads(i) for i in items[3:5]], indent=2))
    out = [
        hub("publish", str(tmp_path / "a.jsonl"), env=env),
        hub("publish", str(tmp_path / "b.json"), env=env),
        hub("publish", "-", env=env, stdin=items[5]),
    ]
    assert [p.returncode for p in out] == [0, 0, 0], [p.stderr for p in out]
    assert out[0].stdout.decode().startswith("published 3 submissions to hub.submitted")
    assert out[2].stdout.decode().startswith("published 1 submission to")
    got = await read_topic(broker.bootstrap, "hub.submitted", 6)
    assert sorted(json.dumps(json.loads(r.value)) for r in got) == sorted(json.dumps(json.loads(i)) for i in items)
    assert {*items[:3], items[5]} <= {r.value for r in got}  # the bytes given: each item is sent as it was written
    assert all(dict(r.headers)["hub-sid"] for r in got)
    assert all(dict(r.headers)["hub-sig"] for r in got)  # signed with the key file


async def test_publish_skips_a_utf8_byte_order_mark(broker, tmp_path):
    item = mixed(total=1, duplicates=0, updates=0, red=0, malformed_n=0).items[0]
    key = tmp_path / "key.pem"
    write_private_key(TEST_KEYS[("EU", "CERT-EU")], key)
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + item)  # as Windows editors save UTF-8
    env = {"HUB_KAFKA__BOOTSTRAP": broker.bootstrap, "HUB_SIGNING__KEY_FILE": str(key)}
    done = hub("publish", str(tmp_path / "bom.json"), env=env)
    assert done.returncode == 0, done.stderr
    assert [r.value for r in await read_topic(broker.bootstrap, "hub.submitted", 1)] == [item]


def test_publish_without_a_broker_is_one_line(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(mixed(total=5, duplicates=0, updates=0, red=0, malformed_n=0).items[0])
    err = one_line_error(hub("publish", str(tmp_path / "a.jsonl"), env={"HUB_DATA_DIR": str(tmp_path / "d")}))
    assert err.startswith("hub: error: no broker: set HUB_KAFKA__BOOTSTRAP")


def test_missing_file_and_bad_setting_are_one_line(tmp_path):
    assert "cannot read" in one_line_error(hub("publish", str(tmp_path / "nope.json")))
    err = one_line_error(hub("counts", env={"HUB_KAFKA__PARTITIONS": "zero"}))
    assert err.startswith("hub: error: setting `kafka.partitions`")


def test_up_refuses_a_source_connector_that_cannot_sign(broker, tmp_path):
    connectors = [{"type": "feed", "side": "EU", "role": "source", "dir": str(tmp_path / "feed")}]
    env = {"HUB_DATA_DIR": str(tmp_path / "d"), "HUB_KAFKA__BOOTSTRAP": broker.bootstrap}
    proc = hub("up", env={**env, "HUB_CONNECTORS": json.dumps(connectors)})
    err = proc.stderr.decode().strip()
    assert proc.returncode == 2
    assert "Traceback" not in err
    assert err.splitlines()[-1].startswith("hub: error: no signing key: set HUB_SIGNING__KEY_FILE")


def tansu_children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
    return [
        int(line.split()[0])
        for line in out.splitlines()[1:]
        if "tansu" in line and f" {pid} " in f" {line.split()[1]} "
    ]


def wait_for(pred, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL])
def test_up_on_the_embedded_broker_then_publish_count_and_stop_without_orphans(tmp_path, stop):
    # about the broker's lifecycle, not signing (tests/trust/test_signed_publish.py covers that)
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "data"), "HUB_SIGNING__REQUIRED": "false"}
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen([sys.executable, "-m", "hub", "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: "ready: processing" in log.read_text(), 60), log.read_text()
        text = log.read_text()
        assert "broker: embedded Tansu at 127.0.0.1:" in text
        assert f"ledger: sqlite:///{tmp_path / 'data' / 'ledger.db'}" in text
        brokers = tansu_children(up.pid)
        assert len(brokers) == 1
        sc = mixed(total=40, duplicates=4, updates=2, red=2, malformed_n=2)
        good = [i for i in sc.items if _valid(i)]
        (tmp_path / "items.jsonl").write_bytes(b"\n".join(good))
        assert hub("publish", str(tmp_path / "items.jsonl"), env=env).returncode == 0
        assert wait_for(lambda: _total(env) == len(good), 60)
        up.send_signal(stop)
        up.wait(30)
        assert wait_for(lambda: not pid_alive(brokers[0]), 10), "the embedded broker outlived the hub"
        assert not (tmp_path / "data" / "broker.addr").exists() or stop == signal.SIGKILL
    finally:
        if up.poll() is None:
            up.kill()


def _valid(raw: bytes) -> bool:
    from hub.core.validate import Valid, validate

    return isinstance(validate(raw), Valid)


def _total(env) -> int:
    proc = hub("counts", "--json", env=env)
    return sum(json.loads(proc.stdout)["totals"].values()) if proc.returncode == 0 else -1


def test_broker_command_prints_its_address_and_stops_on_sigterm(tmp_path):
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "hub", "broker"], env=env, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        addr = proc.stdout.readline().decode().strip()
        assert addr.startswith("127.0.0.1:")
        assert (tmp_path / "broker.addr").read_text().strip() == addr
        brokers = tansu_children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert brokers
        assert wait_for(lambda: not pid_alive(brokers[0]), 10)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_up_uses_a_running_hub_broker_and_leaves_its_address(tmp_path):
    """`hub up` beside a running `hub broker` joins it: one broker, and `broker.addr` survives the worker."""
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "data"), "HUB_SIGNING__REQUIRED": "false"}
    broker = subprocess.Popen([sys.executable, "-m", "hub", "broker"], env=env, stdout=subprocess.PIPE)
    log = tmp_path / "up.log"
    up = None
    try:
        assert broker.stdout is not None
        addr = broker.stdout.readline().decode().strip()
        with log.open("wb") as out:
            up = subprocess.Popen([sys.executable, "-m", "hub", "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
        assert wait_for(lambda: "ready: processing" in log.read_text(), 60), log.read_text()
        assert f"broker: the embedded broker already running at {addr}" in log.read_text()
        assert tansu_children(up.pid) == []  # no second broker
        good = [i for i in mixed(total=40, duplicates=0, updates=0, red=0, malformed_n=0).items if _valid(i)]
        (tmp_path / "items.jsonl").write_bytes(b"\n".join(good))
        assert hub("publish", str(tmp_path / "items.jsonl"), env=env).returncode == 0
        assert wait_for(lambda: _total(env) == len(good), 60)
        up.send_signal(signal.SIGINT)
        up.wait(30)
        assert (tmp_path / "data" / "broker.addr").read_text().strip() == addr  # still the running broker's
    finally:
        for proc in (up, broker):
            if proc is not None and proc.poll() is None:
                proc.kill()


def test_up_starts_its_own_broker_when_broker_addr_is_stale(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "broker.addr").write_text("127.0.0.1:9\n")  # nothing listens on the discard port
    env = {**os.environ, "HUB_DATA_DIR": str(data), "HUB_SIGNING__REQUIRED": "false"}
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen([sys.executable, "-m", "hub", "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: "ready: processing" in log.read_text(), 60), log.read_text()
        assert "broker: embedded Tansu at 127.0.0.1:" in log.read_text()
        assert (data / "broker.addr").read_text().strip() != "127.0.0.1:9"
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(30)


def test_demo_prints_the_table_and_passes(tmp_path):
    proc = hub("demo", env={"HUB_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert "demo passed: every count is as expected" in out
    assert out.splitlines()[0].split() == [
        "area",
        "kind",
        "direction",
        "delivered",
        "updated",
        "duplicate",
        "withheld",
        "rejected",
        "total",
    ]
    totals = json.loads(hub("counts", "--json", env={"HUB_DATA_DIR": str(tmp_path / "data")}).stdout)["totals"]
    # rejected: 6 malformed, and 3 refused at the trust boundary (unsigned, unknown key, wrong side)
    assert totals == {"delivered": 88, "updated": 6, "duplicate": 12, "withheld": 8, "rejected": 9}
