"""`hub policy explain`, `hub policy show`, `hub policy check`: the release policy, and why it decides.

`hub policy explain` decides each item with the worker's own function (`hub.core.decide.decide_one`)
as a new item would be decided now, so its verdict is the worker's; it then lists every check of the
policy and, for a MISP event, every part the shaper leaves behind. It checks no signature and knows
no ledger: a duplicate, a replay or a `not-owner` refusal is the worker's alone.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.cli.inputs import read_items
from hub.config.policy_file import DEFAULT_POLICY_TOML, load_policy, policy_for
from hub.core.decide import decide_one
from hub.core.decision import Decision
from hub.core.misp_release import release_envelope
from hub.core.policy import ReleasePolicy, explain
from hub.core.route import inbox
from hub.core.validate import Valid, validate
from hub.settings import Settings
from schemas.envelope import MispEventEnvelope


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub policy`."""
    policy = sub.add_parser("policy", help="the release policy per destination")
    psub = policy.add_subparsers(dest="action", required=True, metavar="ACTION")
    exp = psub.add_parser("explain", help="what the policy would do with the envelopes in FILE, rule by rule")
    exp.add_argument("file", metavar="ENVELOPE_FILE|-")
    exp.add_argument("--json", action="store_true", help="print JSON instead of text")
    exp.set_defaults(handler=cmd_explain)
    show = psub.add_parser("show", help="print the policy in force as TOML (the built-in one if no file is set)")
    show.set_defaults(handler=cmd_show)
    check = psub.add_parser("check", help="load a policy file and report its first problem, if any")
    check.add_argument("file", type=Path, metavar="POLICY_FILE")
    check.set_defaults(handler=cmd_check)


def explain_item(raw: bytes, policy: ReleasePolicy, now: datetime, skew: timedelta) -> dict[str, Any]:
    """The verdict on one submission, as the worker would give it to a new item: rejected, withheld or delivered."""
    checked = validate(raw)
    outcome = decide_one("explain", checked, None, None, policy, now, skew)
    if not isinstance(checked, Valid) or outcome.decision is Decision.REJECTED:
        return {"verdict": "rejected", "rule": outcome.rule, "reason": outcome.reason, "checks": []}
    env = checked.envelope
    dest = env.origin.counterpart
    checks = [
        {
            "check": name,
            "result": "withhold" if w else "pass",
            "rule": w.rule if w else None,
            "reason": w.reason if w else None,
        }
        for name, w in explain(env, policy)
    ]
    head = {"item": env.key, "origin": env.origin.value, "destination": dest.value, "policy": policy.source}
    if outcome.decision is Decision.WITHHELD:
        return {**head, "verdict": "withheld", "rule": outcome.rule, "reason": outcome.reason, "checks": checks}
    reason = f"releasable to {dest}: delivered to {inbox(dest.value)} unless it is a duplicate"
    return {
        **head,
        "verdict": "delivered",
        "rule": None,
        "reason": reason,
        "checks": checks,
        "stripped": _stripped(env, policy),
    }


def _stripped(env: Any, policy: ReleasePolicy) -> list[dict[str, str]]:
    """The parts of a MISP event that stay on its side, as the worker's shaper finds them."""
    target = policy.destination(env.origin.counterpart)
    if not isinstance(env, MispEventEnvelope) or target is None:
        return []
    return [{"uuid": s.uuid, "what": s.what, "rule": s.rule} for s in release_envelope(env, "", target)[2]]


def cmd_explain(args: argparse.Namespace, settings: Settings) -> int:
    """Explain each envelope; exit 0 only if every one would be delivered."""
    policy = policy_for(settings)
    now, skew = datetime.now(UTC), timedelta(seconds=settings.pipeline.future_skew_s)
    results = [explain_item(raw, policy, now, skew) for raw in read_items(args.file)]
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2, ensure_ascii=False))
    else:
        for n, r in enumerate(results, start=1):
            print(_text(n, r, len(results) > 1))
    return 0 if all(r["verdict"] == "delivered" for r in results) else 1


def _text(n: int, r: dict[str, Any], numbered: bool) -> str:
    title = f"item {n}: " if numbered else ""
    if r["verdict"] == "rejected":
        return f"{title}REJECTED ({r['rule']}): {r['reason']}"
    lines = [f"{title}{r['item']} from {r['origin']} to {r['destination']}, policy {r['policy']}"]
    for c in r["checks"]:
        lines.append(f"  {c['check']:<15} {'WITHHOLD ' + c['rule'] + ': ' + c['reason'] if c['rule'] else 'pass'}")
    for part in r.get("stripped", ()):
        lines.append(f"  stripped        {part['what']} {part['uuid']} ({part['rule']})")
    verdict = f"WITHHELD by rule `{r['rule']}`" if r["verdict"] == "withheld" else "DELIVERED"
    lines.append(f"  => {verdict}: {r['reason']}")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print the policy file in force, or the built-in policy written as TOML."""
    if settings.policy_file is not None:
        load_policy(settings.policy_file)  # refuse to show a file the worker would refuse
        print(settings.policy_file.read_text(encoding="utf-8"), end="")
    else:
        print(DEFAULT_POLICY_TOML, end="")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Load a policy file; a problem is a ConfigError naming the key."""
    policy = load_policy(args.file)
    print(f"{args.file}: ok, rules for {', '.join(s.value for s in policy.destinations) or 'no destination'}")
    return 0
