"""Release policy: what may cross to the counterpart. It fails closed (DESIGN invariant 3).

`release_check` returns None when the item is provably releasable to the destination, otherwise
the rule that withholds it and a reason a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.common import Side
from schemas.envelope import Envelope, MispEventEnvelope
from schemas.markings import Pap, Tlp

# Names that designate each side as a recipient in `releasable_to` and in MISP sharing groups.
DEFAULT_RECIPIENTS: dict[Side, tuple[str, ...]] = {
    Side.EU: ("EU", "CERT-EU", "EEAS", "EU HFC", "EU Hybrid Fusion Cell", "EEAS StratCom"),
    Side.NATO: ("NATO", "NCIRC", "NATO CIRC", "NATO HAB", "Hybrid Analysis Branch", "NATO StratCom COE"),
}


@dataclass(frozen=True)
class Withhold:
    """The rule that keeps an item on its side, and why."""

    rule: str
    reason: str


@dataclass(frozen=True)
class ReleasePolicy:
    """Who counts as each side when markings name recipients."""

    recipients: dict[Side, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_RECIPIENTS))

    def names(self, side: Side) -> frozenset[str]:
        """Lower-cased names that designate `side`."""
        return frozenset(n.lower() for n in (side.value, *self.recipients.get(side, ())))

    def names_destination(self, listed: tuple[str, ...] | set[str], side: Side) -> bool:
        """True when any entry of `listed` designates `side`."""
        return bool(self.names(side) & {n.lower() for n in listed})


def release_check(envelope: Envelope, policy: ReleasePolicy) -> Withhold | None:
    """None if `envelope` may go to the counterpart; otherwise the withholding rule."""
    dest = envelope.origin.counterpart
    m = envelope.markings
    if m.classification:
        return Withhold(
            "classified", f"classification marking {m.classification!r}: the hub carries no classified content"
        )
    if m.tlp is None:
        return Withhold("no-tlp", "no TLP marking: not provably releasable; mark it TLP:CLEAR, GREEN or AMBER")
    if m.tlp is Tlp.RED:
        return Withhold("tlp-red", "TLP:RED is for named recipients only and never crosses")
    if m.pap is Pap.RED:
        return Withhold("pap-red", "PAP:RED: no action may be taken outside the originator")
    listed = m.releasable_to or ()
    if m.tlp is Tlp.AMBER_STRICT and not policy.names_destination(listed, dest):
        return Withhold("amber-strict", f"TLP:AMBER+STRICT without {dest} named in releasable_to")
    if m.releasable_to is not None and not policy.names_destination(listed, dest):
        return Withhold("releasable-to", f"releasable_to {list(listed)} does not include {dest}")
    if m.originator_control and not policy.names_destination(listed, dest):
        return Withhold("orcon", f"originator control: the originator has not released it to {dest}")
    if isinstance(envelope, MispEventEnvelope):
        return _misp_check(envelope, dest, policy)
    return None


def _misp_check(envelope: MispEventEnvelope, dest: Side, policy: ReleasePolicy) -> Withhold | None:
    event = envelope.payload
    dist = event.distribution
    if dist == 0:
        return Withhold("misp-distribution-0", "MISP distribution 0 (your organisation only) never leaves")
    if dist == 4 and not policy.names_destination(event.sharing_group_orgs, dest):
        return Withhold("misp-sharing-group", f"sharing group does not include a {dest} organisation")
    if dist not in (1, 2, 3, 4):
        return Withhold("misp-distribution", f"MISP distribution {dist} is not releasable at event level")
    return None
