"""`hub up`, `hub broker`, `hub publish`, `hub counts`, `hub schemas export`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from hub.cli.inputs import checked_items
from hub.cli.spool import Spool
from hub.config.keystore import publisher_signer
from hub.errors import BrokerError, ConfigError
from hub.kafka.broker import EmbeddedBroker
from hub.kafka.publisher import Publisher
from hub.ledger import Ledger
from hub.report.counts import as_json, table
from hub.settings import EMBEDDED_SESSION_TIMEOUT_S, Settings

LIVE_PROBE_S = 1.0  # a broker on loopback answers a TCP connect in well under a millisecond
log = logging.getLogger("hub")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the core subcommands."""
    up = sub.add_parser("up", help="run the hub worker (and the embedded broker if none is configured)")
    up.set_defaults(handler=cmd_up)
    init = sub.add_parser("init", help="prepare a deployment: keyring, policy, the hub's key, ledger, topics")
    init.set_defaults(handler=cmd_init)
    broker = sub.add_parser("broker", help="run the embedded broker alone, in the foreground")
    broker.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    broker.set_defaults(handler=cmd_broker)
    pub = sub.add_parser("publish", help="submit envelopes from FILE or - (JSON, JSON array or JSON lines)")
    pub.add_argument("file", metavar="FILE|-")
    pub.set_defaults(handler=cmd_publish)
    counts = sub.add_parser("counts", help="the live counts from the ledger")
    counts.add_argument("--json", action="store_true", help="print JSON instead of a table")
    counts.set_defaults(handler=cmd_counts)
    schemas = sub.add_parser("schemas", help="JSON Schema contracts")
    ssub = schemas.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = ssub.add_parser("export", help="write the JSON Schema files generated from the models")
    export.add_argument("--dir", type=Path, default=None, help="target directory (default: the schemas package)")
    export.set_defaults(handler=cmd_schemas_export)


def broker_file(settings: Settings) -> Path:
    """Where a running embedded broker's address is written for other `hub` commands."""
    return settings.data_dir / "broker.addr"


def resolve_bootstrap(settings: Settings) -> str:
    """The configured Kafka, or the embedded broker that `hub up` or `hub broker` started."""
    if settings.kafka.bootstrap:
        return settings.kafka.bootstrap
    path = broker_file(settings)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    raise BrokerError(f"no broker: set HUB_KAFKA__BOOTSTRAP, or start `hub up` or `hub broker` (no {path})")


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    """Run the worker until interrupted, on a running `hub broker` when `broker.addr` names one that answers."""
    from connectors.files.service import check_files_connectors, files_connectors
    from connectors.misp.service import check_connectors, connectors
    from connectors.store import DeliveryStore
    from connectors.taxii.service import taxii_connectors
    from hub.worker.runtime import run_worker

    misp = _only_misp(settings)
    check_connectors(misp)  # before the broker starts: a connector that can never work is one line
    check_files_connectors(settings)
    taxii_connectors(settings, "")  # checked before the broker starts, as the others
    live = live_embedded_broker(settings)
    if live is not None:
        log.info("broker: the embedded broker already running at %s (from %s)", live, broker_file(settings))
        settings, misp = on_embedded_broker(settings, live), on_embedded_broker(misp, live)
    run_worker(
        settings,
        on_broker=lambda addr: _write_addr(settings, addr),
        connectors=lambda bootstrap: [
            *([DeliveryStore(settings, bootstrap)] if settings.store else []),  # TAXII and the inbox page read it
            *connectors(misp, bootstrap),
            *files_connectors(settings, bootstrap),
            *taxii_connectors(settings, bootstrap),
        ],
    )
    return 0


def _only_misp(settings: Settings) -> Settings:
    """`settings` with only the MISP connectors (rest, feed), which `connectors.misp.service` builds."""
    kept = [cfg for cfg in settings.connectors if cfg.type in ("rest", "feed")]
    return settings.model_copy(update={"connectors": kept})


def live_embedded_broker(settings: Settings) -> str | None:
    """The address in `broker.addr` when no Kafka is configured and a broker answers there; else None."""
    path = broker_file(settings)
    if not settings.kafka.embedded or not path.is_file():
        return None
    addr = path.read_text(encoding="utf-8").strip()
    host, _, port = addr.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=LIVE_PROBE_S):
            return addr
    except (OSError, ValueError):
        return None  # a stale file left by a broker that died: start a new one


def on_embedded_broker(settings: Settings, addr: str) -> Settings:
    """`settings` pointed at an embedded broker another process runs, keeping the embedded broker's timings."""
    kafka = settings.kafka.model_copy(
        update={"bootstrap": addr, "session_timeout_s": settings.kafka.session_timeout_s or EMBEDDED_SESSION_TIMEOUT_S}
    )
    return settings.model_copy(update={"kafka": kafka})


def cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    """Check and prepare what workers need, each problem one line (exit 2): run once before `hub up`."""
    from hub.config.keystore import hub_signer, load_keyring
    from hub.config.policy_file import policy_for
    from hub.kafka.topics import ensure_topics

    if settings.signing.required and not load_keyring(settings.keyring).keys:
        raise ConfigError(
            f"keyring {settings.keyring} is missing or holds no publisher keys: register each publishing"
            " organisation with `hub keys new --org ORG --side EU|NATO` (see deploy/README.md)"
        )
    policy = policy_for(settings)
    signer = hub_signer(settings)
    Ledger(settings.ledger).close()  # brings the ledger's schema up to date once, before the workers
    bootstrap = resolve_bootstrap(settings)
    asyncio.run(ensure_topics(settings.kafka, bootstrap))
    keys = len(load_keyring(settings.keyring).keys)
    print(f"keyring {settings.keyring}: {keys} publisher key{'s' if keys != 1 else ''}; hub key {signer.key_id}")
    print(f"release policy: {policy.source}; ledger ready; topics ready at {bootstrap}")
    return 0


def _write_addr(settings: Settings, addr: str | None) -> None:
    path = broker_file(settings)
    if addr is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(addr + "\n", encoding="utf-8")


def cmd_broker(args: argparse.Namespace, settings: Settings) -> int:
    """Run the embedded broker in the foreground, printing its address."""
    stop = False

    def _stop(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with EmbeddedBroker(port=args.port, log_level=settings.broker_log) as broker:
        _write_addr(settings, broker.bootstrap)
        print(broker.bootstrap, flush=True)
        try:
            while not stop and broker.proc is not None and broker.proc.poll() is None:
                time.sleep(0.2)
        finally:
            _write_addr(settings, None)
    return 0


def cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    """Validate every item as it is read (into a spool file), then send them all; success once acknowledged."""
    with Spool() as spool:
        for raw in checked_items(args.file):  # the first bad item ends it here, before anything is sent
            spool.add(raw)
        bootstrap = resolve_bootstrap(settings)
        signer = publisher_signer(settings)

        async def send() -> int:
            sent = 0
            async with Publisher(settings.kafka, bootstrap, signer=signer) as pub:
                for batch in spool.batches():
                    try:
                        sent += len(await pub.publish(batch))
                    except BrokerError as exc:
                        raise BrokerError(f"{exc} ({sent} of {spool.count} submissions were acknowledged)") from exc
            return sent

        sent = asyncio.run(send())
    print(f"published {sent} submission{'s' if sent != 1 else ''} to hub.submitted at {bootstrap}")
    return 0


def cmd_counts(args: argparse.Namespace, settings: Settings) -> int:
    """Print the live counts."""
    ledger = Ledger(settings.ledger)
    try:
        rows = ledger.counts()
    finally:
        ledger.close()
    if args.json:
        json.dump(as_json(rows), sys.stdout, indent=2)
        print()
    else:
        print(table(rows))
    return 0


def cmd_schemas_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the JSON Schema files."""
    from schemas.export import SCHEMA_DIR, export

    for path in export(args.dir or SCHEMA_DIR):
        print(f"wrote {path}")
    return 0
