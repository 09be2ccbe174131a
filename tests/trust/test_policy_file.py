"""The release policy file: per destination, fails closed, names the rule that fired."""

from __future__ import annotations

import random

import pytest

from hub.config.policy_file import DEFAULT_POLICY_TOML, parse_policy
from hub.core.policy import ReleasePolicy, explain, release_check
from hub.demo.scenario import BASE_TIME, envelope
from hub.errors import ConfigError
from schemas.envelope import SUBMISSION


def env(kind="assessment", origin="EU", distribution=None, sharing=None, **markings):
    doc = envelope(random.Random(5), kind, origin, BASE_TIME)
    doc["markings"] = markings or {"tlp": "GREEN"}
    if distribution is not None:
        ev = doc["payload"]["Event"]
        ev["distribution"] = distribution
        if sharing:
            ev["SharingGroup"] = {"name": "sg", "SharingGroupOrg": [{"Organisation": o} for o in sharing]}
    return SUBMISSION.validate_python(doc)


def policy(nato: str = "", eu: str | None = "") -> ReleasePolicy:
    text = f"[destination.NATO]\n{nato}\n" + (f"[destination.EU]\n{eu}\n" if eu is not None else "")
    return parse_policy(text, "test.toml")


def rule(envelope_, pol):
    w = release_check(envelope_, pol)
    return w.rule if w else None


def test_the_written_default_is_the_built_in_policy():
    written = parse_policy(DEFAULT_POLICY_TOML, "default")
    built_in = ReleasePolicy()
    assert written.destinations == built_in.destinations
    assert written.recipients == built_in.recipients


def test_an_empty_section_is_the_built_in_rules():
    assert policy().destinations == ReleasePolicy().destinations


def test_a_destination_without_a_section_receives_nothing():
    p = policy(eu=None)
    assert rule(env(origin="NATO"), p) == "no-destination-policy"
    assert rule(env(origin="EU"), p) is None


def test_allowed_tlp_per_destination():
    p = policy(nato='allowed_tlp = ["CLEAR", "GREEN"]')
    assert rule(env(tlp="AMBER"), p) == "tlp-not-allowed"
    assert rule(env(tlp="GREEN"), p) is None
    assert rule(env(origin="NATO", tlp="AMBER"), p) is None  # the EU destination keeps the default


def test_required_releasable_to():
    p = policy(nato="require_releasable_to = true")
    assert rule(env(tlp="GREEN"), p) == "releasable-to-missing"
    assert rule(env(tlp="GREEN", releasable_to=["NATO"]), p) is None
    assert rule(env(tlp="GREEN", releasable_to=["EU"]), p) == "releasable-to"


def test_originator_control_never():
    p = policy(nato='originator_control = "never"')
    assert rule(env(tlp="GREEN", originator_control=True, releasable_to=["NATO"]), p) == "orcon"
    assert rule(env(tlp="GREEN", originator_control=True, releasable_to=["NATO"]), ReleasePolicy()) is None


def test_classifications_are_refused_unless_allowed():
    p = policy(nato='allowed_classifications = ["Unclassified"]')
    assert rule(env(tlp="GREEN", classification="UNCLASSIFIED"), p) is None
    assert rule(env(tlp="GREEN", classification="NATO RESTRICTED"), p) == "classified"
    assert rule(env(tlp="GREEN", classification="UNCLASSIFIED"), ReleasePolicy()) == "classified"


def test_misp_distributions_and_sharing_group_members():
    p = policy(nato='misp_distributions = [1, 4]\nmisp_sharing_group_members = ["5b0c-ncirc-uuid"]')
    assert rule(env("misp_event", distribution="3"), p) == "misp-distribution"
    assert rule(env("misp_event", distribution="1"), p) is None
    assert rule(env("misp_event", distribution="4", sharing=[{"name": "X", "uuid": "5b0c-ncirc-uuid"}]), p) is None
    assert rule(env("misp_event", distribution="4", sharing=[{"name": "ENISA"}]), p) == "misp-sharing-group"
    assert rule(env("misp_event", distribution="0"), p) == "misp-distribution-0"


def test_pap_levels_can_be_refused():
    p = policy(nato='refused_pap = ["AMBER", "RED"]')
    assert rule(env(tlp="GREEN", pap="AMBER"), p) == "pap-refused"
    assert rule(env(tlp="GREEN", pap="RED"), p) == "pap-red"


def test_recipients_can_be_named_in_the_file():
    p = parse_policy('[recipients]\nNATO = ["NATO", "ACO"]\n[destination.NATO]\n[destination.EU]\n', "t")
    assert rule(env(tlp="GREEN", releasable_to=["ACO"]), p) is None
    assert rule(env(tlp="GREEN", releasable_to=["NCIRC"]), p) == "releasable-to"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[destination.NATO]\nallowed_tlp = ["RED"]', "TLP:RED never crosses"),
        ('[destination.NATO]\nallowed_tlp = ["PURPLE"]', "'PURPLE' is not one of"),
        ("[destination.NATO]\nrefused_pap = []", "PAP:RED must stay refused"),
        ("[destination.NATO]\nmisp_distributions = [0, 1]", r"\[0\] cannot cross"),
        ("[destination.NATO]\ncolour = 1", "destination.NATO.colour"),
        ("[destination.UN]", "destination.UN"),
        ('[destination.NATO]\noriginator_control = "maybe"', "originator_control"),
        ("[destination.NATO", "not valid TOML"),
    ],
)
def test_a_bad_policy_file_is_refused_with_the_key_named(text, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_policy(text, "bad.toml")


def test_explain_runs_every_check_and_names_the_first_that_fires():
    checks = explain(env(tlp="RED", pap="RED"), ReleasePolicy())
    assert [name for name, _ in checks] == ["classification", "markings", "tlp", "pap", "releasability", "misp"]
    fired = [w.rule for _, w in checks if w]
    assert fired == ["tlp-red", "pap-red"]
    assert release_check(env(tlp="RED", pap="RED"), ReleasePolicy()).rule == fired[0]
