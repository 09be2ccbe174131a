"""The worker: the engine that reads `hub.submitted` in batches, decides them through the ledger and sends.

app.py        HubWorker: the Faust app hosting the engine, with the ledger, policy and trust
engine.py     BatchEngine: getmany, decide, send, commit in batch order after the acknowledgements
clients.py    the engine's Consumer and Producer protocols and aiokafka's pair
memory.py     an in-memory Consumer and Producer pair with the same contract, for tests
batch.py      decide_batch: one ledger transaction around the pure core
warm.py       what the first batch would otherwise pay for (the ready line waits for it)
health.py     /healthz, /readyz and /metrics, served inside the worker's event loop
metrics.py    the worker's Prometheus metrics, in its own registry
status.py     ConnectorHealth: one small object per connector, read by the metrics
runtime.py    `hub up`: the broker in force, the topics, the worker until stopped
supervise.py  a worker as a child process: start, wait until ready, kill, restart
"""
