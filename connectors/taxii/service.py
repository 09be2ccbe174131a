"""TAXII source connectors built from the settings (`[[connectors]] type = "taxii"`), and their supervised loop.

    [[connectors]]
    type = "taxii"
    side = "EU"                                  # the side whose organisation's items the collection holds
    url = "https://taxii.eu.example/api/collections/<id>/"
    key_file = "/etc/hub/taxii-eu.token"         # the collection's API token (Bearer), or key = "…"
    interval_s = 60

Items are submitted signed with `HUB_SIGNING__KEY_FILE`, as every source does: the hub accepts
those whose `originator` is that key's organisation.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from taxii2client.v21 import Collection

from connectors.misp.sync import poll_source
from connectors.supervise import SupervisedConnector
from connectors.taxii.source import TaxiiSource, TokenAuth, Watermark
from hub.config.keystore import publisher_signer
from hub.errors import ConfigError
from hub.files import KIB, read_text
from hub.settings import ConnectorSettings, Settings
from hub.worker.status import ConnectorHealth
from schemas.common import Side

log = logging.getLogger("hub.taxii")
TOKEN_FILE_LIMIT = 4 * KIB  # a token is a hundred characters; a larger file is something else


def peer_id(cfg: ConnectorSettings) -> str:
    """The connector's stable name: `taxii-eu-<digest of the collection URL>`."""
    return f"taxii-{cfg.side.lower()}-{hashlib.sha256(str(cfg.url).encode()).hexdigest()[:10]}"


def api_token(cfg: ConnectorSettings) -> str:
    """The collection's API token: given in the settings, or read from its key file; ConfigError if unusable."""
    if cfg.key is not None:
        token = cfg.key.get_secret_value().strip()
    else:
        token = read_text(Path(str(cfg.key_file)), TOKEN_FILE_LIMIT, "TAXII token file").strip()
    if not token or any(not c.isprintable() or c.isspace() for c in token):
        raise ConfigError("the TAXII API token is empty or holds spaces or control characters")
    return token


def build_source(cfg: ConnectorSettings, settings: Settings) -> TaxiiSource:
    """The source of `cfg`: the collection behind its URL, its token, its watermark file."""
    auth = TokenAuth(api_token(cfg))
    collection = Collection(str(cfg.url), auth=auth, verify=str(cfg.ca_bundle) if cfg.ca_bundle else cfg.verify_tls)
    watermark = Watermark(settings.data_dir / "connectors" / f"{peer_id(cfg)}.json")
    return TaxiiSource(collection, auth, Side(cfg.side), watermark)


async def run_source(cfg: ConnectorSettings, settings: Settings, bootstrap: str, once: bool,
                     health: ConnectorHealth) -> int:  # fmt: skip
    """Poll the collection every `interval_s` (or once); returns the submissions of the last pass."""
    source = build_source(cfg, settings)
    return await poll_source(source, peer_id(cfg), cfg.side, settings, bootstrap, once, health, cfg.interval_s)


def taxii_connector(cfg: ConnectorSettings, settings: Settings, bootstrap: str) -> SupervisedConnector:
    """One configured TAXII source run by `hub up`: its polling loop, supervised."""

    async def source(once: bool, health: ConnectorHealth) -> int:
        return await run_source(cfg, settings, bootstrap, once, health)

    return SupervisedConnector(peer_id(cfg), cfg, source, None, ("source", "sink"))


def taxii_connectors(settings: Settings, bootstrap: str) -> list[SupervisedConnector]:
    """One connector per configured taxii connector; ConfigError first when one can never work."""
    found = [cfg for cfg in settings.connectors if cfg.type == "taxii"]
    if found:
        publisher_signer(settings)
        for cfg in found:
            api_token(cfg)
    return [taxii_connector(cfg, settings, bootstrap) for cfg in found]
