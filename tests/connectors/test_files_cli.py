"""`hub files drop|inbox` and `hub up` with files connectors: one-off runs, and every bad setting as one line."""

from __future__ import annotations

import json

import pytest

from connectors.files.drop import DropDir
from connectors.files.ready import Settle
from hub.stix.convert import bundle, stix_objects
from schemas.common import Side
from schemas.envelope import SUBMISSION
from tests.connectors.drops import drop, items, listed
from tests.connectors.helpers import decisions, hub_settings, inbox_holds
from tests.e2e.test_cli import hub, one_line_error


@pytest.mark.broker
@pytest.mark.e2e
async def test_drop_then_inbox_through_the_hub(broker, ledger_url, start_worker, worker_env, tmp_path):
    key = hub_settings(broker.bootstrap, tmp_path, Side.EU).signing.key_file
    box, inbox = tmp_path / "drop", tmp_path / "inbox"
    box.mkdir()
    docs = items(3, Side.EU, kinds=("misp_event", "stratcom_note", "assessment"))
    drop(box, "0.json", docs[0])  # just written: the one-off run waits until they settle (2 s)
    drop(box, "1.json", docs[1])
    delivered = json.loads(SUBMISSION.validate_python(docs[2]).model_dump_json())
    drop(box, "2.json", bundle(stix_objects(delivered)))  # an assessment as a STIX bundle
    drop(box, "bad.json", b"{")
    start_worker()
    env = {**worker_env, "HUB_DATA_DIR": str(tmp_path / "cli"), "HUB_SIGNING__KEY_FILE": str(key)}
    done = hub("files", "drop", str(box), "--side", "eu", "--once", env=env)
    assert done.returncode == 0, done.stderr
    said = f"submitted 3 files from EU to hub.submitted; 1 rejected (see {box}/rejected)\n"
    assert done.stdout.decode() == said
    assert listed(box / "done") == ["0.json", "1.json", "2.json"]
    records = await decisions(ledger_url, 3)
    assert [r.decision for r in records] == ["delivered"] * 3
    ids = {docs[0]["payload"]["Event"]["uuid"], docs[1]["source_id"], docs[2]["source_id"]}
    assert {r.source_id for r in records} == ids
    await inbox_holds(broker.bootstrap, "NATO", 3)
    done = hub("files", "inbox", str(inbox), "--side", "nato", "--format", "stix", "--once", env=env)
    said = f"applied 3 deliveries for NATO to {inbox}: 3 added, 0 updated, 0 unchanged, 0 refused\n"
    assert done.stdout.decode() == said
    assert all(json.loads((inbox / n).read_text())["type"] == "bundle" for n in listed(inbox))
    again = hub("files", "inbox", str(inbox), "--side", "nato", "--once", env=env)
    said = f"applied 0 deliveries for NATO to {inbox}: 0 added, 0 updated, 0 unchanged, 0 refused\n"
    assert again.stdout.decode() == said


@pytest.mark.broker
@pytest.mark.e2e
def test_a_drop_directory_worked_on_by_another_process_is_one_line_exit_1(broker, worker_env, tmp_path):
    key = hub_settings(broker.bootstrap, tmp_path, Side.EU).signing.key_file
    box = tmp_path / "drop"
    holder = DropDir(box, Settle(0), 1)
    holder.open()
    assert holder.lock()
    env = {**worker_env, "HUB_SIGNING__KEY_FILE": str(key)}
    done = hub("files", "drop", str(box), "--side", "eu", "--once", env=env)
    assert done.returncode == 1
    assert one_line_error(done) == f"hub: error: drop directory {box} is being worked on by another hub process"


def _up_with(tmp_path, *cfgs, **env):
    return hub("up", env={"HUB_DATA_DIR": str(tmp_path / "data"), "HUB_CONNECTORS": json.dumps(list(cfgs)), **env})


BAD_FILES_SETTINGS = [
    ({"role": "both", "drop_dir": "D"}, "`connectors.0`: a files connector with role both needs `inbox_dir`"),
    ({"role": "sink"}, "`connectors.0`: a files connector with role sink needs `inbox_dir`"),
    ({"role": "source", "dir": "D"}, "`connectors.0`: a files connector takes `drop_dir` and `inbox_dir`, not `dir`"),
    (
        {"drop_dir": "D", "inbox_dir": "D"},
        "`connectors.0`: `drop_dir` and `inbox_dir` are the same directory: deliveries would be submitted back",
    ),
    ({"role": "sink", "inbox_dir": "I", "inbox_format": "pdf"}, "`connectors.0.inbox_format`: Input should be"),
    ({"role": "source", "drop_dir": "D", "max_file_mib": 65}, "`connectors.0.max_file_mib`: Input should be less"),
    ({"role": "source", "drop_dir": "D", "settle_s": -1}, "`connectors.0.settle_s`: Input should be greater"),
]


@pytest.mark.e2e
@pytest.mark.parametrize(("cfg", "says"), BAD_FILES_SETTINGS)
def test_each_bad_files_setting_stops_hub_up_in_one_line(tmp_path, cfg, says):
    dirs = {k: str(tmp_path / v) for k, v in cfg.items() if k.endswith("dir")}
    done = _up_with(tmp_path, {"type": "files", "side": "EU", **cfg, **dirs})
    assert done.returncode == 2
    assert one_line_error(done).startswith(f"hub: error: setting {says}")


@pytest.mark.e2e
def test_unusable_directories_and_a_missing_key_stop_hub_up_in_one_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    drop_cfg = {"type": "files", "side": "EU", "role": "source", "drop_dir": str(tmp_path / "drop")}
    done = _up_with(tmp_path, drop_cfg)
    assert one_line_error(done).startswith("hub: error: no signing key: set HUB_SIGNING__KEY_FILE")
    key = hub_settings("127.0.0.1:1", tmp_path, Side.EU).signing.key_file
    under_a_file = {**drop_cfg, "drop_dir": str(tmp_path / "a-file" / "drop")}
    done = _up_with(tmp_path, under_a_file, HUB_SIGNING__KEY_FILE=str(key))
    assert done.returncode == 2
    assert one_line_error(done) == (
        f"hub: error: drop directory {tmp_path / 'a-file' / 'drop'} cannot be used: "
        f"[Errno 20] Not a directory: '{tmp_path / 'a-file' / 'drop'}'"
    )
    loop = [
        {**drop_cfg, "side": "NATO"},
        {"type": "files", "side": "EU", "role": "sink", "inbox_dir": str(tmp_path / "drop")},
    ]
    done = _up_with(tmp_path, *loop, HUB_SIGNING__KEY_FILE=str(key))
    assert done.returncode == 2
    said = f"hub: error: inbox directory {tmp_path / 'drop'} is also a drop directory: deliveries would come back"
    assert one_line_error(done) == said


@pytest.mark.e2e
def test_a_bad_side_is_a_usage_error(tmp_path):
    done = hub("files", "drop", str(tmp_path), "--side", "un")
    assert done.returncode == 2
    assert "'un' is not one of eu, nato" in done.stderr.decode()
