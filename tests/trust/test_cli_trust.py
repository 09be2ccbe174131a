"""`hub keys` and `hub policy` from the command line."""

from __future__ import annotations

import json
import random

from hub.cli.main import main
from hub.demo.scenario import BASE_TIME, envelope


def run(capsys, monkeypatch, tmp_path, *argv):
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "data"))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_keys_new_registers_and_lists(capsys, monkeypatch, tmp_path):
    code, out, _ = run(capsys, monkeypatch, tmp_path, "keys", "new", "--org", "CERT-EU", "--side", "EU")
    assert code == 0
    kid = out.split()[1]
    assert "HUB_SIGNING__KEY_FILE=" in out
    code, out, _ = run(capsys, monkeypatch, tmp_path, "keys", "list")
    assert code == 0
    assert kid in out
    assert "1 key in" in out


def test_keys_new_refuses_an_empty_org(capsys, monkeypatch, tmp_path):
    code, _, err = run(capsys, monkeypatch, tmp_path, "keys", "new", "--org", " ", "--side", "NATO")
    assert code == 2
    assert err == "hub: error: --org must name an organisation\n"


def write(tmp_path, *docs):
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in docs))
    return path


def test_policy_explain_says_what_would_happen_and_why(capsys, monkeypatch, tmp_path):
    rng = random.Random(2)
    ok = envelope(rng, "assessment", "EU", BASE_TIME)
    red = envelope(rng, "misp_event", "NATO", BASE_TIME, tlp="RED")
    path = write(tmp_path, ok, red, {"kind": "podcast"})
    code, out, _ = run(capsys, monkeypatch, tmp_path, "policy", "explain", str(path))
    assert code == 1
    assert "=> DELIVERED: releasable to NATO: delivered to nato.inbox" in out
    assert "=> WITHHELD by rule `tlp-red`" in out
    assert "item 3: REJECTED (invalid): field `kind`: 'podcast' is not one of" in out
    code, out, _ = run(capsys, monkeypatch, tmp_path, "policy", "explain", "--json", str(path))
    verdicts = [(r["verdict"], r["rule"]) for r in json.loads(out)]
    assert verdicts == [("delivered", None), ("withheld", "tlp-red"), ("rejected", "invalid")]


def test_policy_explain_uses_the_policy_file(capsys, monkeypatch, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[destination.NATO]\nallowed_tlp = ["CLEAR"]\n')
    monkeypatch.setenv("HUB_POLICY_FILE", str(policy))
    path = write(tmp_path, envelope(random.Random(2), "assessment", "EU", BASE_TIME))
    code, out, _ = run(capsys, monkeypatch, tmp_path, "policy", "explain", str(path))
    assert code == 1
    assert "WITHHOLD tlp-not-allowed: TLP:GREEN does not go to NATO; it accepts CLEAR" in out
    assert f"policy {policy}" in out


def test_policy_show_and_check(capsys, monkeypatch, tmp_path):
    code, out, _ = run(capsys, monkeypatch, tmp_path, "policy", "show")
    assert code == 0
    assert "[destination.NATO]" in out
    good = tmp_path / "p.toml"
    good.write_text(out)
    assert run(capsys, monkeypatch, tmp_path, "policy", "check", str(good))[0] == 0
    good.write_text(out.replace('refused_pap = ["RED"]', "refused_pap = []", 1))
    code, _, err = run(capsys, monkeypatch, tmp_path, "policy", "check", str(good))
    assert code == 2
    assert "PAP:RED must stay refused" in err
