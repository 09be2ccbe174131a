"""`hub policy check` and the worker refuse a policy in which one name stands for both sides."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hub.config.policy_file import DEFAULT_POLICY_TOML, parse_policy, policy_for
from hub.errors import ConfigError
from hub.settings import load_settings

BOTH = "one name cannot stand for both sides"


@pytest.mark.parametrize(
    ("recipients", "shown"),
    [
        ('EU = ["EU", "CERT-EU"]\nNATO = ["NATO", "EU"]', "'EU'"),
        ('EU = ["EU", "CERT-EU"]\nNATO = ["NATO", "eu"]', "'eu'"),
        ('EU = ["EU", "CERT-EU"]\nNATO = ["NATO", "  cert-eu "]', "'  cert-eu '"),
        ('EU = ["EU", "NATO"]\nNATO = ["NATO"]', "'NATO'"),
        ('EU = ["EU", "Joint  Cell"]\nNATO = ["NATO", "joint cell"]', "'joint cell'"),
        ('NATO = ["NATO", "EU HFC"]', "'EU HFC'"),  # EU keeps its default names, which hold "EU HFC"
    ],
)
def test_overlapping_recipients_are_refused(recipients, shown):
    with pytest.raises(ConfigError, match=f"policy p.toml: `recipients`: {shown} named for both EU and NATO; {BOTH}"):
        parse_policy(f"[recipients]\n{recipients}\n[destination.NATO]\n", "p.toml")


def test_a_sharing_group_member_naming_the_other_side_is_refused():
    text = '[destination.NATO]\nmisp_sharing_group_members = ["NCIRC-UUID", "CERT-EU"]\n'
    with pytest.raises(ConfigError, match="`destination.NATO.misp_sharing_group_members`: 'CERT-EU' already names EU"):
        parse_policy(text, "p.toml")


def test_the_default_policy_has_no_overlap():
    parse_policy(DEFAULT_POLICY_TOML, "default")


def test_settings_recipients_that_overlap_are_refused(tmp_path):
    settings = load_settings(recipients={"NATO": ["EEAS"]})
    problem = f"settings' extra recipients: `recipients`: 'EEAS' named for both EU and NATO; {BOTH}"
    with pytest.raises(ConfigError, match=problem):
        policy_for(settings)


@pytest.mark.e2e
def test_hub_policy_check_refuses_overlap(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('[recipients]\nNATO = ["NATO", "NCIRC", "EU"]\n[destination.NATO]\n[destination.EU]\n')
    run = subprocess.run(
        [sys.executable, "-m", "hub", "policy", "check", str(path)],
        env={**os.environ, "HUB_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr == f"hub: error: policy {path}: `recipients`: 'EU' named for both EU and NATO; {BOTH}\n"
