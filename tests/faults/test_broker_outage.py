"""The broker unreachable for 30 seconds: publishers and the worker retry with backoff and resume.

A TCP proxy on loopback stands between every client and the broker (which advertises the proxy's
address, so clients never go around it). Cutting the proxy drops every connection and refuses new
ones, as a network partition would; the broker itself keeps what it acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator

import pytest

from hub.core.route import inbox
from hub.demo.scenario import mixed
from hub.kafka.broker import free_port, tansu_binary, wait_for_port
from hub.kafka.publisher import Publisher
from hub.ledger import Ledger
from hub.report.counts import totals
from hub.settings import KafkaSettings
from tests.conftest import TEST_SIGNERS
from tests.faults.test_crash import sids_on

pytestmark = [pytest.mark.broker, pytest.mark.slow]

OUTAGE_S = 30.0  # the figure
PART = 300  # submissions published before, during and after the cut


class Proxy:
    """A loopback TCP proxy that can be cut (every connection dropped, new ones refused) and restored."""

    def __init__(self, port: int, target: int) -> None:
        self.port, self.target = port, target
        self.server: asyncio.Server | None = None
        self.open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.open):
            w.transport.abort()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        self.open |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.open -= {writer, up_writer}

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()


@pytest.fixture
def proxied_broker() -> Iterator[tuple[int, int]]:
    """A Tansu broker on one port that advertises another (the proxy's); yields (broker port, proxy port)."""
    port, proxy_port = free_port(), free_port()
    cmd = [tansu_binary(), "broker", "--listener-url", f"tcp://127.0.0.1:{port}"]
    cmd += ["--advertised-listener-url", f"tcp://127.0.0.1:{proxy_port}", "--storage-engine", "memory://tansu/"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    try:
        wait_for_port("127.0.0.1", port, 10.0, proc)
        yield port, proxy_port
    finally:
        proc.terminate()
        proc.wait(10)


async def wait_size(ledger: Ledger, n: int, timeout: float) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (size := ledger.size()) < n and loop.time() < deadline:
        await asyncio.sleep(0.1)
    return size


async def test_thirty_seconds_without_the_broker_loses_nothing_acknowledged(proxied_broker, ledger_url, start_worker):
    port, proxy_port = proxied_broker
    proxy = Proxy(proxy_port, port)
    await proxy.start()
    bootstrap = f"127.0.0.1:{proxy_port}"
    kafka = KafkaSettings(bootstrap=bootstrap, partitions=4)
    sc = mixed(total=3 * PART, duplicates=0, updates=0, red=0, malformed_n=0, seed=30, attributes=2)
    before, during, after = sc.items[:PART], sc.items[PART : 2 * PART], sc.items[2 * PART :]
    await asyncio.to_thread(start_worker, HUB_KAFKA__BOOTSTRAP=bootstrap)
    ledger = Ledger(ledger_url)

    async with Publisher(kafka, bootstrap, signer=TEST_SIGNERS) as pub:
        acked = await pub.publish(before)
        assert await wait_size(ledger, PART, 60) == PART
        await proxy.cut()
        sending = asyncio.create_task(pub.publish(during))  # a running publisher loses its connection

        async def new_publisher() -> list[str]:  # and one that starts while the broker is unreachable
            async with Publisher(kafka, bootstrap, signer=TEST_SIGNERS) as late:
                ids = await late.publish(after)
                assert late.retries > 0
                return ids

        starting = asyncio.create_task(new_publisher())
        await asyncio.sleep(OUTAGE_S)
        assert ledger.size() == PART  # nothing got through the cut
        assert not sending.done()
        assert not starting.done()
        await proxy.start()
        acked += await sending + await starting  # aiokafka's own retries or ours, whichever outlasts the cut

    assert await wait_size(ledger, 3 * PART, 120) == 3 * PART  # the worker resumed by itself
    assert {r.submission_id for r in ledger.records()} == set(acked)
    assert totals(ledger.counts())["delivered"] == 3 * PART
    assert ledger.counts() == ledger.recount()
    seen, _ = await sids_on(bootstrap, [inbox("EU"), inbox("NATO")], set(acked), 60)
    assert seen == set(acked)
    await proxy.cut()
    ledger.close()
