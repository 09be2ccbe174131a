"""Release policy: what may cross to the counterpart. It fails closed (DESIGN invariant 3).

The policy is a list of named rules checked in order against the rules of the item's destination
(`DestinationRules`, built in or read from a TOML file by `hub.config.policy_file`). `release_check`
returns None when the item is provably releasable to the destination, otherwise the first rule
that withholds it and a reason a person can act on; `explain` runs every rule, for `hub policy explain`.

Markings are judged by `Destination.marking_withhold`, one function over a `schemas.markings.Reading`:
the item's own reading here, each part's reading in the MISP shaper (`hub.core.misp_release`), so the
two can never read an item differently. MISP distributions and sharing groups are judged the same
way by `Destination.distribution_withhold`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from schemas.common import Side
from schemas.envelope import Envelope, MispEventEnvelope
from schemas.markings import Pap, Reading, Tlp
from schemas.misp_event import group_members

# Names that designate each side as a recipient in `releasable_to` and in MISP sharing groups.
DEFAULT_RECIPIENTS: dict[Side, tuple[str, ...]] = {
    Side.EU: ("EU", "CERT-EU", "EEAS", "EU HFC", "EU Hybrid Fusion Cell", "EEAS StratCom"),
    Side.NATO: ("NATO", "NCIRC", "NATO CIRC", "NATO HAB", "Hybrid Analysis Branch", "NATO StratCom COE"),
}
RELEASABLE_MISP_DISTRIBUTIONS = frozenset({1, 2, 3, 4})  # community, connected, all, sharing group; never 0 or 5
SHARING_GROUP = 4  # MISP distribution "sharing group": only the group's organisations receive it


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
    allowed_classifications: frozenset[str] = frozenset()  # `classification_key`s; any other marking is refused
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

    @cached_property
    def _names(self) -> dict[Side, frozenset[str]]:
        # Read for every part of every item (a MISP event's attributes each name their audience): made once.
        return {s: frozenset(n.lower() for n in (s.value, *self.recipients.get(s, ()))) for s in Side}

    def names(self, side: Side) -> frozenset[str]:
        """Lower-cased names that designate `side`."""
        return self._names[side]

    def names_destination(self, listed: tuple[str, ...] | set[str], side: Side) -> bool:
        """True when any entry of `listed` designates `side`."""
        return bool(self.names(side) & {n.strip().lower() for n in listed})

    def destination(self, side: Side) -> Destination | None:
        """The rules `side` receives under, or None when this policy has none for it."""
        rules = self.destinations.get(side)
        return Destination(side, rules, self) if rules is not None else None


@dataclass(frozen=True)
class Destination:
    """One destination's rules and the names that stand for it: what an item and each of its parts are judged by."""

    side: Side
    rules: DestinationRules
    policy: ReleasePolicy

    @cached_property
    def group_names(self) -> frozenset[str]:
        """Lower-cased names and UUIDs that stand for this side in a MISP sharing group."""
        extra = {m.strip().lower() for m in self.rules.misp_sharing_group_members}
        return self.policy.names(self.side) | extra

    def names_me(self, listed: tuple[str, ...] | None) -> bool:
        """True when `listed` (a `releasable_to`) names this destination."""
        return self.policy.names_destination(listed or (), self.side)

    def marking_withhold(self, reading: Reading, named: bool) -> Withhold | None:
        """The first marking rule `reading` breaks for this destination; `named`: the item's releasable_to names it."""
        for check in MARKING_CHECKS:
            withhold = check(reading, self, named)
            if withhold is not None:
                return withhold
        return None

    def distribution_withhold(self, distribution: int, part: Mapping[str, Any]) -> Withhold | None:
        """The rule a MISP distribution (of an event, or of a part: 5 inherits) breaks for this destination."""
        if distribution == 0:
            return Withhold("misp-distribution-0", "MISP distribution 0 (your organisation only) never leaves")
        if distribution == SHARING_GROUP and not group_members(dict(part)) & self.group_names:
            return Withhold("misp-sharing-group", f"sharing group does not include a {self.side} organisation")
        if distribution != 5 and (
            distribution not in self.rules.misp_distributions or distribution not in RELEASABLE_MISP_DISTRIBUTIONS
        ):
            return Withhold("misp-distribution", f"MISP distribution {distribution} is not releasable to {self.side}")
        return None


MarkingCheck = Callable[[Reading, Destination, bool], Withhold | None]


def _classified(reading: Reading, dest: Destination, named: bool) -> Withhold | None:
    refused = [c for c in reading.classifications if c not in dest.rules.allowed_classifications]
    if refused:
        return Withhold("classified", f"classification marking {refused[0]!r}: {dest.side} accepts no such marking")
    return None


def _unreadable(reading: Reading, dest: Destination, named: bool) -> Withhold | None:
    if reading.unreadable:
        problem = f"{reading.unreadable[0]!r} looks like a TLP, PAP, STIX or classification marking but cannot be read"
        return Withhold("unreadable-marking", f"{problem}: not provably releasable")
    return None


def _tlp_level(reading: Reading, dest: Destination, named: bool) -> Withhold | None:
    tlp = reading.tlp
    if tlp is Tlp.RED:
        return Withhold("tlp-red", "TLP:RED is for named recipients only and never crosses")
    if tlp is not None and tlp not in dest.rules.allowed_tlp:
        allowed = ", ".join(t.value for t in Tlp if t in dest.rules.allowed_tlp) or "nothing"
        return Withhold("tlp-not-allowed", f"TLP:{tlp.value} does not go to {dest.side}; it accepts {allowed}")
    if tlp is Tlp.AMBER_STRICT and not named:
        return Withhold("amber-strict", f"TLP:AMBER+STRICT without {dest.side} named in releasable_to")
    return None


def _pap(reading: Reading, dest: Destination, named: bool) -> Withhold | None:
    pap = reading.pap
    if pap is Pap.RED:
        return Withhold("pap-red", "PAP:RED: no action may be taken outside the originator")
    if pap is not None and pap in dest.rules.refused_pap:
        return Withhold("pap-refused", f"PAP:{pap.value} is refused for {dest.side}")
    return None


MARKING_CHECKS: tuple[MarkingCheck, ...] = (_classified, _unreadable, _tlp_level, _pap)
"""The checks every reading goes through, the item's and each MISP part's alike, in the order they fire."""

Check = Callable[[Envelope, Reading, Destination], Withhold | None]


def _on_item(check: MarkingCheck) -> Check:
    """A marking check applied to the item's own reading, named by its releasable_to."""

    def run(env: Envelope, reading: Reading, dest: Destination) -> Withhold | None:
        return check(reading, dest, dest.names_me(env.markings.releasable_to))

    return run


def _tlp(env: Envelope, reading: Reading, dest: Destination) -> Withhold | None:
    if reading.tlp is None:  # a part inherits its event's TLP; an item must have its own
        return Withhold("no-tlp", "no TLP marking: not provably releasable; mark it TLP:CLEAR, GREEN or AMBER")
    return _on_item(_tlp_level)(env, reading, dest)


def _releasable(env: Envelope, reading: Reading, dest: Destination) -> Withhold | None:
    m = env.markings
    named = dest.names_me(m.releasable_to)
    if m.releasable_to is None and dest.rules.require_releasable_to:
        return Withhold("releasable-to-missing", f"no releasable_to: {dest.side} accepts only items released to it")
    if m.releasable_to is not None and not named:
        return Withhold("releasable-to", f"releasable_to {list(m.releasable_to)} does not include {dest.side}")
    if m.originator_control and (dest.rules.originator_control == "never" or not named):
        why = "is never released" if dest.rules.originator_control == "never" else "the originator has not released it"
        return Withhold("orcon", f"originator control: {why} to {dest.side}")
    return None


def _misp(env: Envelope, reading: Reading, dest: Destination) -> Withhold | None:
    if not isinstance(env, MispEventEnvelope):
        return None
    return dest.distribution_withhold(env.payload.distribution, env.payload.Event)


RULES: tuple[tuple[str, Check], ...] = (
    ("classification", _on_item(_classified)),
    ("markings", _on_item(_unreadable)),
    ("tlp", _tlp),
    ("pap", _on_item(_pap)),
    ("releasability", _releasable),
    ("misp", _misp),
)
"""The checks in the order they fire; each names the rule that withholds."""


def _no_rules(dest: Side, p: ReleasePolicy) -> Withhold:
    return Withhold("no-destination-policy", f"the release policy ({p.source}) has no rules for {dest}")


def release_check(envelope: Envelope, policy: ReleasePolicy) -> Withhold | None:
    """None if `envelope` may go to the counterpart; otherwise the withholding rule."""
    return next((w for _, w in explain(envelope, policy) if w is not None), None)


def explain(envelope: Envelope, policy: ReleasePolicy) -> list[tuple[str, Withhold | None]]:
    """Every check and what it says about `envelope`; the first Withhold is the one that fires."""
    side = envelope.origin.counterpart
    dest = policy.destination(side)
    if dest is None:
        return [("destination", _no_rules(side, policy))]
    reading = envelope.reading()
    return [(name, check(envelope, reading, dest)) for name, check in RULES]
