"""A source's watermark: what a save writes, what survives a reopen, the low mark, and the old JSON file."""

from __future__ import annotations

import json
import sqlite3

import pytest

from connectors.misp.watermark import Watermark
from hub.errors import ConnectorError


def test_marks_are_kept_only_once_saved_and_only_ever_forward(tmp_path):
    wm = Watermark(tmp_path / "wm.db")
    wm.mark("a", 5)
    wm.mark("a", 3)  # older: ignored
    wm.advance(10)
    assert (wm.is_new("a", 5), wm.is_new("a", 6), wm.since) == (False, True, 10)
    assert Watermark(tmp_path / "wm.db").size() == 0  # not saved yet: another reader sees nothing
    wm.save()
    wm.advance(7)  # never back
    again = Watermark(tmp_path / "wm.db")
    assert (again.since, again.known(["a", "b"]), again.unseen([("a", 5), ("a", 9), ("b", 1)])) == (
        10,
        {"a": 5},
        [("a", 9), ("b", 1)],
    )
    again.mark("a", 4)
    again.save()
    assert Watermark(tmp_path / "wm.db").known(["a"]) == {"a": 5}  # an older version never overwrites


def test_a_save_writes_only_what_changed(tmp_path):
    wm = Watermark(tmp_path / "wm.db")
    for i in range(1000):
        wm.mark(f"k{i}", 1)
    wm.save()
    writes = []
    wm.db.set_trace_callback(writes.append)
    wm.mark("k1", 2)
    wm.mark("new", 1)
    wm.save()
    wm.save()  # nothing changed: nothing written
    inserts = [w for w in writes if w.startswith("INSERT INTO versions")]
    assert len(inserts) == 2
    assert writes.count("COMMIT") == 1


def test_a_json_watermark_of_an_earlier_version_is_imported_once(tmp_path):
    (tmp_path / "peer.json").write_text(json.dumps({"versions": {"a": 5, "b": 7}}))
    wm = Watermark(tmp_path / "peer.db")
    assert (wm.known(["a", "b"]), wm.since) == ({"a": 5, "b": 7}, 7)
    assert not (tmp_path / "peer.json").exists()
    assert (tmp_path / "peer.json.imported").exists()


@pytest.mark.parametrize("content", [b"not sqlite at all, but long enough to be read as a header" * 10, b"\x00" * 4096])
def test_an_unusable_file_is_one_line(tmp_path, content):
    (tmp_path / "wm.db").write_bytes(content)
    with pytest.raises(ConnectorError, match=r"watermark .*wm\.db is unusable .*; delete it to pull everything again"):
        Watermark(tmp_path / "wm.db")


def test_a_broken_old_json_file_is_one_line(tmp_path):
    (tmp_path / "peer.json").write_text("{")
    with pytest.raises(ConnectorError, match=r"peer\.json is unreadable"):
        Watermark(tmp_path / "peer.db")
    assert sqlite3.connect(tmp_path / "peer.db").execute("SELECT COUNT(*) FROM versions").fetchone() == (0,)
