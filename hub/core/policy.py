"""Release policy: what may cross to the counterpart. It fails closed (DESIGN invariant 3).

The policy is a list of named rules checked in order against the rules of the item's destination
(`DestinationRules`, built in or read from a TOML file by `hub.config.policy_file`). `release_check`
returns None when the item is provably releasable to the destination, otherwise the first rule
that withholds it and a reason a person can act on; `explain` runs every rule, for `hub policy explain`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from schemas.common import Side
from schemas.envelope import Envelope, MispEventEnvelope
from schemas.markings import Pap, Tlp

# Names that designate each side as a recipient in `releasable_to` and in MISP sharing groups.
DEFAULT_RECIPIENTS: dict[Side, tuple[str, ...]] = {
    Side.EU: ("EU", "CERT-EU", "EEAS", "EU HFC", "EU Hybrid Fusion Cell", "EEAS StratCom"),
    Side.NATO: ("NATO", "NCIRC", "NATO CIRC", "NATO HAB", "Hybrid Analysis Branch", "NATO StratCom COE"),
}
RELEASABLE_MISP_DISTRIBUTIONS = frozenset({1, 2, 3, 4})  # community, connected, all, sharing group; never 0 or 5


@dataclass(frozen=True)
class Withhold:
    """The rule that keeps an item on its side, and why."""

    rule: str
    reason: str


@dataclass(frozen=True)
class DestinationRules:
    """What one destination accepts; the defaults are the hub's built-in policy."""

    allowed_tlp: frozenset[Tlp] = frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT})
    refused_pap: frozenset[Pap] = frozenset({Pap.RED})
    allowed_classifications: frozenset[str] = frozenset()  # lower-cased; any other marking is refused
    require_releasable_to: bool = False  # True: an item must name the destination in `releasable_to`
    originator_control: Literal["named", "never"] = "named"  # ORCON crosses only when the destination is named
    misp_distributions: frozenset[int] = RELEASABLE_MISP_DISTRIBUTIONS
    misp_sharing_group_members: tuple[str, ...] = ()  # extra org names or UUIDs that stand for the destination


@dataclass(frozen=True)
class ReleasePolicy:
    """Who counts as each side, and each destination's rules; a destination without rules gets nothing."""

    recipients: dict[Side, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_RECIPIENTS))
    destinations: dict[Side, DestinationRules] = field(default_factory=lambda: {s: DestinationRules() for s in Side})
    source: str = "built-in"  # where the policy came from, for `hub policy explain`

    def names(self, side: Side) -> frozenset[str]:
        """Lower-cased names that designate `side`."""
        return frozenset(n.lower() for n in (side.value, *self.recipients.get(side, ())))

    def names_destination(self, listed: tuple[str, ...] | set[str], side: Side) -> bool:
        """True when any entry of `listed` designates `side`."""
        return bool(self.names(side) & {n.lower() for n in listed})


Check = Callable[[Envelope, Side, DestinationRules, ReleasePolicy], Withhold | None]


def _classified(env: Envelope, dest: Side, r: DestinationRules, p: ReleasePolicy) -> Withhold | None:
    c = env.markings.classification
    if c and c.strip().lower() not in r.allowed_classifications:
        return Withhold("classified", f"classification marking {c!r}: the hub carries no classified content")
    return None


def _tlp(env: Envelope, dest: Side, r: DestinationRules, p: ReleasePolicy) -> Withhold | None:
    tlp = env.markings.tlp
    if tlp is None:
        return Withhold("no-tlp", "no TLP marking: not provably releasable; mark it TLP:CLEAR, GREEN or AMBER")
    if tlp is Tlp.RED:
        return Withhold("tlp-red", "TLP:RED is for named recipients only and never crosses")
    if tlp not in r.allowed_tlp:
        allowed = ", ".join(t.value for t in Tlp if t in r.allowed_tlp) or "nothing"
        return Withhold("tlp-not-allowed", f"TLP:{tlp.value} does not go to {dest}; it accepts {allowed}")
    return None


def _pap(env: Envelope, dest: Side, r: DestinationRules, p: ReleasePolicy) -> Withhold | None:
    pap = env.markings.pap
    if pap is Pap.RED and pap in r.refused_pap:
        return Withhold("pap-red", "PAP:RED: no action may be taken outside the originator")
    if pap is not None and pap in r.refused_pap:
        return Withhold("pap-refused", f"PAP:{pap.value} is refused for {dest}")
    return None


def _releasable(env: Envelope, dest: Side, r: DestinationRules, p: ReleasePolicy) -> Withhold | None:
    m = env.markings
    listed = m.releasable_to or ()
    named = p.names_destination(listed, dest)
    if m.tlp is Tlp.AMBER_STRICT and not named:
        return Withhold("amber-strict", f"TLP:AMBER+STRICT without {dest} named in releasable_to")
    if m.releasable_to is None and r.require_releasable_to:
        return Withhold("releasable-to-missing", f"no releasable_to: {dest} accepts only items released to it by name")
    if m.releasable_to is not None and not named:
        return Withhold("releasable-to", f"releasable_to {list(listed)} does not include {dest}")
    if m.originator_control and (r.originator_control == "never" or not named):
        why = "is never released" if r.originator_control == "never" else "the originator has not released it"
        return Withhold("orcon", f"originator control: {why} to {dest}")
    return None


def _misp(env: Envelope, dest: Side, r: DestinationRules, p: ReleasePolicy) -> Withhold | None:
    if not isinstance(env, MispEventEnvelope):
        return None
    event = env.payload
    dist = event.distribution
    if dist == 0:
        return Withhold("misp-distribution-0", "MISP distribution 0 (your organisation only) never leaves")
    if dist == 4:
        try:
            members = {m.lower() for m in event.sharing_group_orgs}
        except (AttributeError, TypeError):  # a malformed SharingGroup: not provably releasable
            members = set()
        extra = {m.lower() for m in r.misp_sharing_group_members}
        if not (p.names_destination(members, dest) or extra & members):
            return Withhold("misp-sharing-group", f"sharing group does not include a {dest} organisation")
    if dist not in r.misp_distributions or dist not in RELEASABLE_MISP_DISTRIBUTIONS:
        return Withhold("misp-distribution", f"MISP distribution {dist} is not releasable at event level to {dest}")
    return None


RULES: tuple[tuple[str, Check], ...] = (
    ("classification", _classified),
    ("tlp", _tlp),
    ("pap", _pap),
    ("releasability", _releasable),
    ("misp", _misp),
)
"""The checks in the order they fire; each names the rule that withholds."""


def _no_rules(dest: Side, p: ReleasePolicy) -> Withhold:
    return Withhold("no-destination-policy", f"the release policy ({p.source}) has no rules for {dest}")


def release_check(envelope: Envelope, policy: ReleasePolicy) -> Withhold | None:
    """None if `envelope` may go to the counterpart; otherwise the withholding rule."""
    dest = envelope.origin.counterpart
    rules = policy.destinations.get(dest)
    if rules is None:
        return _no_rules(dest, policy)
    for _, check in RULES:
        withhold = check(envelope, dest, rules, policy)
        if withhold is not None:
            return withhold
    return None


def explain(envelope: Envelope, policy: ReleasePolicy) -> list[tuple[str, Withhold | None]]:
    """Every check and what it says about `envelope`; the first Withhold is the one that fires."""
    dest = envelope.origin.counterpart
    rules = policy.destinations.get(dest)
    if rules is None:
        return [("destination", _no_rules(dest, policy))]
    return [(name, check(envelope, dest, rules, policy)) for name, check in RULES]
