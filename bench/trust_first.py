"""What an untrusted item costs the hub's way in: the signature verdict before any parse (issue 11).

Times `hub.core.admit.admit` on one item, signed, unsigned and forged (a registered key id with a
wrong signature), for a small assessment and a large MISP event, and, for comparison, what the
scheme before December 2026 had to do for each: the RFC 8785 canonical form before any verdict,
then full validation of every item whatever its signature said. Prints a Markdown table.

    python bench/trust_first.py [--attributes 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from hub.config.keystore import load_keyring, save_keyring
from hub.core.admit import Submitted, admit
from hub.core.canonical import canonical_of_json
from hub.core.keys import Keyring, RegisteredKey, key_id
from hub.core.signing import KEY_HEADER, SIG_HEADER, Trust
from hub.core.validate import validate
from hub.demo.scenario import BASE_TIME, envelope, misp_event, scenario_keys, scenario_signers
from schemas.common import Side


def best(runs: int, work: Callable[[], object]) -> float:
    """The median of `runs` timings of `work()`, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def items(attributes: int) -> dict[str, bytes]:
    """A small signed-size assessment and a large MISP event, as submitted."""
    small = json.dumps(envelope(random.Random(1), "assessment", "EU", BASE_TIME)).encode()
    event = misp_event(random.Random(7), "CERT-EU", attributes, datetime(2026, 6, 1, 8, tzinfo=UTC))
    large = {"kind": "misp_event", "origin": "EU", "originator": "CERT-EU", "area": "cyber", "payload": event}
    return {"assessment": small, f"MISP event, {attributes:,} attributes": json.dumps(large).encode()}


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attributes", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    keys = scenario_keys(seed="bench")
    signers = scenario_signers(keys)
    with tempfile.TemporaryDirectory() as tmp:
        ring = Keyring({})
        for (side, org), private in keys.items():
            ring = ring.with_key(RegisteredKey(key_id(private.public_key()), org, Side(side), private.public_key()))
        save_keyring(ring, Path(tmp) / "keyring.json")
        trust = Trust(load_keyring(Path(tmp) / "keyring.json"))
    print("| item | bytes | signed: admitted | unsigned: refused | forged: refused | before: canonical form | "
          "before: validation of any item |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, raw in items(args.attributes).items():
        headers = tuple(signers.headers(raw))
        forged = ((KEY_HEADER, dict(headers)[KEY_HEADER]), (SIG_HEADER, base64.b64encode(b"\1" * 64)))
        cells = [
            best(args.runs, lambda raw=raw, h=headers: admit(Submitted("s", raw, h), trust)),
            best(args.runs, lambda raw=raw: admit(Submitted("s", raw), trust)),
            best(args.runs, lambda raw=raw, h=forged: admit(Submitted("s", raw, h), trust)),
            best(args.runs, lambda raw=raw: canonical_of_json(raw)),
            best(args.runs, lambda raw=raw: validate(raw)),
        ]
        print(f"| {name} | {len(raw):,} | " + " | ".join(f"{c:,.2f} ms" for c in cells) + " |")


if __name__ == "__main__":
    main()
