"""The property of `tests/unit/test_copies.py`, through the real sinks: a feed directory and the loopback MISP.

Whatever the order of the copies (subsets, supersets, equal copies, newer versions, withheld ones),
the core's deliveries applied by `FeedSink` and by `MispClient.put` against a MISP that keeps MISP's
rules end with the fullest releasable version. No broker: the core decides, the sinks apply.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import uuid
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from connectors.misp.feed import FeedDir
from connectors.misp.feed_sink import FeedSink
from schemas.common import Side
from tests.connectors.helpers import misp_client
from tests.connectors.misp_server import MispServer
from tests.unit.test_copies import COPY, EVENT, RED, event, run

# Found by this property: withheld copies, then three growing copies of one version; the third must still
# reach a MISP whose event an earlier merge stamped a second past that version.
GROWING = [(0, set(), False), (0, set(), True), (0, {str(uuid.UUID(int=1))}, True),
           (0, {str(uuid.UUID(int=1)), str(uuid.UUID(int=2))}, True)]  # fmt: skip


@settings(max_examples=15, deadline=None)
@example(GROWING, random.Random(0))
@given(st.lists(COPY, min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_the_feed_sink_and_the_rest_sink_end_with_the_fullest_releasable_version_whatever_the_order(copies, rng):
    top = max(v for v, _, _ in copies)
    copies = [*copies, (top, set(), True)]
    docs = [event(sorted(parts), stamp=v, tlp=tlp) for v, parts, tlp in copies]
    shuffled = docs[:]
    rng.shuffle(shuffled)
    want = {EVENT} | set().union(*(parts - {RED} for v, parts, tlp in copies if v == top and tlp))

    async def apply(order: list[dict[str, Any]], directory: Path, server: MispServer) -> tuple[set[str], set[str]]:
        sink, client = FeedSink(directory, Side.NATO), misp_client(server)
        for o in run(order)[0]:
            if o.crosses:
                delivered = o.envelope.model_dump(mode="json")  # type: ignore[union-attr]
                await sink.apply(delivered)
                await client.put(delivered["payload"]["Event"])
        await sink.flush()
        await client.close()
        in_feed = {EVENT} | {a["uuid"] for a in FeedDir(directory).read(EVENT)["Attribute"]}
        in_misp = {EVENT} | {a["uuid"] for a in server.state.events[EVENT]["Attribute"]}
        return in_feed, in_misp

    for order in (docs, shuffled):
        with tempfile.TemporaryDirectory() as tmp, MispServer() as server:
            in_feed, in_misp = asyncio.run(apply(order, Path(tmp), server))
        assert in_feed == want
        assert in_misp >= want  # MISP keeps what an older version held: attributes are removed by soft delete
