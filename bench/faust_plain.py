"""A plain Faust agent that only reads `hub.submitted` in batches: the benchmark's Faust baseline.

Run as `python bench/faust_plain.py BOOTSTRAP N`; prints `faust_plain <messages> <seconds>` on stderr.
"""

from __future__ import annotations

import sys
import tempfile
import time

import faust

BOOTSTRAP, TOTAL = sys.argv[1], int(sys.argv[2])
app = faust.App(
    "bench-faust-plain",
    broker=f"kafka://{BOOTSTRAP}",
    store="memory://",
    web_enabled=False,
    datadir=tempfile.mkdtemp(prefix="bench-faust-"),  # not a `<app>-data` folder in the working tree
    broker_session_timeout=2.0,
    broker_heartbeat_interval=0.3,
    consumer_auto_offset_reset="earliest",
    stream_buffer_maxsize=8192,
)
topic = app.topic("hub.submitted", key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
state = {"seen": 0, "t0": 0.0}


@app.agent(topic)
async def read(stream):  # type: ignore[no-untyped-def]
    async for batch in stream.take(1000, within=0.05):
        if not state["seen"]:
            state["t0"] = time.perf_counter()
        state["seen"] += len(batch)
        if state["seen"] >= TOTAL:
            line = f"faust_plain {state['seen']} {time.perf_counter() - state['t0']:.4f}"
            print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    # At WARNING this worker stalls before joining its group when run under bench/throughput.py
    # (seen repeatedly, not understood); at INFO it runs. The parent discards the log lines.
    worker = faust.Worker(app, loglevel="INFO", quiet=True, redirect_stdouts=False)
    try:
        worker.execute_from_commandline()
    except SystemExit:
        pass
