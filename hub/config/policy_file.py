"""The release policy in a TOML file, per destination; it fails closed.

A destination without a `[destination.SIDE]` section receives nothing, unknown keys are an error,
and the file cannot let TLP:RED, PAP:RED or MISP distribution 0 cross. `DEFAULT_POLICY_TOML` is
the built-in policy written out (`hub policy show`), a starting point for an operator's own file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.core.policy import DEFAULT_RECIPIENTS, RELEASABLE_MISP_DISTRIBUTIONS, DestinationRules, ReleasePolicy
from hub.errors import ConfigError
from hub.files import MIB, read_text
from hub.settings import Settings
from schemas.common import Side
from schemas.markings import Pap, Tlp, classification_key, parse_pap, parse_tlp

POLICY_FILE_LIMIT = 1 * MIB  # the built-in policy is 1.5 KiB; a file near this size is not a policy

DEFAULT_POLICY_TOML = """\
# Release policy of the EU-NATO exchange hub: what may cross to each destination.
# It fails closed: a destination without a section receives nothing; unknown keys are an error.

[recipients]  # names that designate each side in `releasable_to` and MISP sharing groups
EU = ["EU", "CERT-EU", "EEAS", "EU HFC", "EU Hybrid Fusion Cell", "EEAS StratCom"]
NATO = ["NATO", "NCIRC", "NATO CIRC", "NATO HAB", "Hybrid Analysis Branch", "NATO StratCom COE"]

[destination.NATO]
allowed_tlp = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"]  # AMBER+STRICT also needs NATO named
refused_pap = ["RED"]
allowed_classifications = []  # e.g. ['nato:classification="NU"']; any marking not listed is withheld
require_releasable_to = false  # true: only items naming NATO in releasable_to cross
originator_control = "named"  # "named": ORCON crosses when NATO is in releasable_to; "never"
misp_distributions = [1, 2, 3, 4]  # 0 (organisation only) never crosses
misp_sharing_group_members = []  # org names or UUIDs that stand for NATO in sharing groups

[destination.EU]
allowed_tlp = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"]
refused_pap = ["RED"]
allowed_classifications = []
require_releasable_to = false
originator_control = "named"
misp_distributions = [1, 2, 3, 4]
misp_sharing_group_members = []
"""


class _Destination(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_tlp: list[str] = Field(default_factory=lambda: ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"])
    refused_pap: list[str] = Field(default_factory=lambda: ["RED"])
    allowed_classifications: list[str] = Field(default_factory=list)
    require_releasable_to: bool = False
    originator_control: Literal["named", "never"] = "named"
    misp_distributions: list[int] = Field(default_factory=lambda: sorted(RELEASABLE_MISP_DISTRIBUTIONS))
    misp_sharing_group_members: list[str] = Field(default_factory=list)

    @field_validator("allowed_tlp")
    @classmethod
    def _tlp(cls, value: list[str]) -> list[str]:
        levels = [parse_tlp(v) for v in value]
        if Tlp.RED in levels:
            raise ValueError("TLP:RED never crosses the hub and cannot be allowed")
        return [t.value for t in levels]

    @field_validator("refused_pap")
    @classmethod
    def _pap(cls, value: list[str]) -> list[str]:
        levels = [parse_pap(v) for v in value]
        if Pap.RED not in levels:
            raise ValueError("PAP:RED must stay refused: no action may be taken outside the originator")
        return [p.value for p in levels]

    @field_validator("allowed_classifications")
    @classmethod
    def _classifications(cls, value: list[str]) -> list[str]:
        if any(not classification_key(c) for c in value):
            raise ValueError("an empty classification marking cannot be accepted")
        return value

    @field_validator("misp_distributions")
    @classmethod
    def _distributions(cls, value: list[int]) -> list[int]:
        wrong = sorted(set(value) - RELEASABLE_MISP_DISTRIBUTIONS)
        if wrong:
            raise ValueError(f"{wrong} cannot cross; choose among 1, 2, 3, 4")
        return value

    def rules(self) -> DestinationRules:
        return DestinationRules(
            allowed_tlp=frozenset(Tlp(t) for t in self.allowed_tlp),
            refused_pap=frozenset(Pap(p) for p in self.refused_pap),
            allowed_classifications=frozenset(classification_key(c) for c in self.allowed_classifications),
            require_releasable_to=self.require_releasable_to,
            originator_control=self.originator_control,
            misp_distributions=frozenset(self.misp_distributions),
            misp_sharing_group_members=tuple(self.misp_sharing_group_members),
        )


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    recipients: dict[Side, list[str]] = Field(default_factory=dict)
    destination: dict[Side, _Destination] = Field(default_factory=dict)


def parse_policy(text: str, source: str) -> ReleasePolicy:
    """A release policy from TOML text; ConfigError naming the key and the problem."""
    try:
        doc = _PolicyFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"policy {source}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"policy {source}: nested too deeply to be a release policy") from exc
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"policy {source}: `{where}`: {err['msg'].removeprefix('Value error, ')}") from exc
    recipients = {s: tuple(doc.recipients.get(s, DEFAULT_RECIPIENTS[s])) for s in Side}
    policy = ReleasePolicy(recipients, {side: d.rules() for side, d in doc.destination.items()}, source)
    check_names(policy, f"policy {source}")
    return policy


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def check_names(policy: ReleasePolicy, where: str) -> None:
    """ConfigError when one name stands for both sides: in `recipients`, or as a sharing-group member.

    Such a name would make an item addressed to one side releasable to the other (NATO recipients
    that include "EU" let every item marked releasable to the EU cross to NATO).
    """
    names = {side: {_norm(n): n for n in (side.value, *policy.recipients.get(side, ()))} for side in Side}
    for side, rules in policy.destinations.items():
        for member in rules.misp_sharing_group_members:
            other = side.counterpart
            if _norm(member) in names[other]:
                raise ConfigError(
                    f"{where}: `destination.{side.value}.misp_sharing_group_members`: {member!r} already names "
                    f"{other.value} in `recipients`; one name cannot stand for both sides"
                )
    both = sorted(set(names[Side.EU]) & set(names[Side.NATO]))
    if both:
        shown = ", ".join(repr(names[Side.NATO][n]) for n in both)
        raise ConfigError(
            f"{where}: `recipients`: {shown} named for both EU and NATO; one name cannot stand for both sides"
        )


def load_policy(path: Path) -> ReleasePolicy:
    """A release policy from a TOML file."""
    return parse_policy(read_text(path, POLICY_FILE_LIMIT, "policy"), str(path))


def policy_for(settings: Settings) -> ReleasePolicy:
    """The policy in force: the settings' policy file or the built-in one, plus the settings' extra recipients."""
    policy = load_policy(settings.policy_file) if settings.policy_file else ReleasePolicy()
    names = {side: (*policy.recipients.get(side, ()), *settings.recipients.get(side.value, ())) for side in Side}
    merged = ReleasePolicy(names, policy.destinations, policy.source)
    check_names(merged, "the policy with the settings' extra recipients")
    return merged
