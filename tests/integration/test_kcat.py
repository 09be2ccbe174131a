"""A non-Python client reads an inbox on the embedded broker: kcat (librdkafka), with the flags the README gives.

Tansu answers librdkafka's ApiVersions v3 request in a form librdkafka cannot read ("Read
underflow"), and its ListOffsets v0 answer likewise; so kcat skips the version handshake
(`api.version.request=false`, `broker.version.fallback=0.9.0`) and starts from an absolute
offset (`-o 0`) instead of asking for `beginning`. kcat must be installed (`scripts/test-deps`
installs Debian's); without it this test fails, not skips.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import pytest

from hub.demo.scenario import mixed
from hub.ledger import Ledger
from tests.conftest import publish, read_topic

pytestmark = pytest.mark.broker
KCAT_FLAGS = ["-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0"]


def kcat() -> str:
    path = shutil.which("kcat")
    if path is None:
        pytest.fail("kcat is not installed: run `apt-get update && apt-get install -y kcat` (scripts/test-deps does)")
    return path


async def test_kcat_reads_the_delivered_items_byte_for_byte(broker, ledger_url, start_worker):
    sc = mixed(total=40, duplicates=0, updates=0, red=0, malformed_n=0, seed=9)
    start_worker()
    sids = await publish(broker.bootstrap, sc.items)
    ledger = Ledger(ledger_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while ledger.size() < len(sids) and loop.time() < deadline:
        await asyncio.sleep(0.1)
    to_nato = sum(1 for r in ledger.records() if r.direction == "EU->NATO" and r.decision == "delivered")
    assert to_nato > 0
    expected = await read_topic(broker.bootstrap, "nato.inbox", to_nato)
    cmd = [kcat(), "-b", broker.bootstrap, *KCAT_FLAGS, "-C", "-t", "nato.inbox", "-o", "0", "-e", "-q"]
    cmd += ["-f", "%p\t%o\t%s\n"]
    out = subprocess.run(cmd, capture_output=True, timeout=60, check=True).stdout
    got = {(int(p), int(o)): value for p, o, value in (line.split(b"\t", 2) for line in out.splitlines())}
    assert got == {(r.partition, r.offset): r.value for r in expected}
    assert len(got) == to_nato
