"""The hub's one frozen settings object: environment (`HUB_*`, nested with `__`) over a TOML file.

Built once by the CLI and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, InitSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from hub.errors import ConfigError
from hub.files import MIB, read_text

EMBEDDED_SESSION_TIMEOUT_S = 2.0  # Tansu makes a group join wait half of it: ~1 s start-up
KAFKA_SESSION_TIMEOUT_S = 10.0  # Apache Kafka refuses under group.min.session.timeout.ms (6 s)
MAX_SESSION_TIMEOUT_S = 1800.0  # Apache Kafka's group.max.session.timeout.ms default (30 min) refuses more
CONFIG_FILE_LIMIT = 1 * MIB  # a hub config is a few KiB; anything near this size is a wrong file
_HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


class KafkaSettings(BaseModel):
    """Where Kafka is and how to talk to it; no bootstrap means the embedded broker."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    bootstrap: str | None = Field(None, description="host:port[,host:port]; unset starts the embedded broker")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    session_timeout_s: float | None = Field(
        None, ge=0.5, le=MAX_SESSION_TIMEOUT_S, description="Default: 2 s embedded, 10 s Kafka"
    )
    partitions: int = Field(4, ge=1, le=1000, description="Partitions of hub.submitted and the inboxes")
    replication_factor: int = Field(1, ge=1, le=10)
    min_insync_replicas: int | None = Field(
        None, ge=1, le=10, description="Topic min.insync.replicas; default: 2 with replication, else 1"
    )
    retention_hours: float = Field(
        720.0, description="Topic retention.ms in hours; -1 keeps forever. Undecided or unread items older are lost"
    )

    @model_validator(mode="after")
    def _replicas_fit(self) -> KafkaSettings:
        if self.min_insync_replicas is not None and self.min_insync_replicas > self.replication_factor:
            raise ValueError(
                f"min_insync_replicas {self.min_insync_replicas} exceeds replication_factor {self.replication_factor}:"
                " no write could ever be acknowledged"
            )
        if self.retention_hours != -1 and self.retention_hours <= 0:
            raise ValueError("retention_hours must be positive, or -1 to keep forever")
        return self

    @property
    def min_insync(self) -> int:
        """The topics' min.insync.replicas in force: a write survives one broker's loss when replicated."""
        if self.min_insync_replicas is not None:
            return self.min_insync_replicas
        return min(2, self.replication_factor)

    @field_validator("bootstrap")
    @classmethod
    def _host_ports(cls, value: str | None) -> str | None:
        """host:port[,host:port]; an empty value is refused (unset the variable for the embedded broker)."""
        if value is None:
            return None
        if not value.strip():
            raise ValueError("is empty; unset it for the embedded broker, or give host:port[,host:port]")
        for part in value.split(","):
            found = _HOST_PORT.match(part.strip())
            if found is None or not 1 <= int(found.group(2)) <= 65535:
                raise ValueError(f"{part.strip()[:100]!r} is not host:port")
        return ",".join(p.strip() for p in value.split(","))

    @property
    def embedded(self) -> bool:
        """True when the hub must start its own broker."""
        return self.bootstrap is None

    @property
    def session_timeout(self) -> float:
        """The consumer group session timeout in seconds."""
        if self.session_timeout_s is not None:
            return self.session_timeout_s
        return EMBEDDED_SESSION_TIMEOUT_S if self.embedded else KAFKA_SESSION_TIMEOUT_S


class PipelineSettings(BaseModel):
    """Batching of the stream processors."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    future_skew_s: float = Field(
        900, ge=0, le=7 * 86_400, description="Versions further ahead of the hub's clock are refused (future-version)"
    )
    batch_size: int = Field(1000, ge=1, le=100_000, description="Most submissions decided in one transaction")
    batch_within_s: float = Field(0.02, gt=0, le=10, description="Longest wait to fill a batch")


MIB = 1024 * 1024
# A batch's submissions, decompressed, until this many bytes: with the ~5-10x a parsed JSON item
# takes in memory and the worker's own ~250 MiB, it keeps one worker under 1 GiB; on a 24 GiB,
# 2-core machine several workers fit beside PostgreSQL and Kafka.
BATCH_BYTES = 32 * MIB


class LimitsSettings(BaseModel):
    """What one batch and one item may cost the worker: memory per batch, validation work per MISP event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_bytes: int = Field(
        BATCH_BYTES,
        ge=MIB,
        le=4096 * MIB,
        description="Decompressed bytes of submissions per batch; a batch ends once it holds this many",
    )
    misp_attributes: int = Field(150_000, ge=1, le=10_000_000, description="Attributes per MISP event, objects' too")
    misp_objects: int = Field(20_000, ge=1, le=1_000_000, description="Objects per MISP event")


class CheckpointSettings(BaseModel):
    """Signed checkpoints of the ledger's head: how often, and the append-only file outside the database."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    every: int = Field(1000, ge=1, le=10_000_000, description="Sign the head after this many new records")
    interval_s: float = Field(60.0, gt=0, le=86_400, description="...or after this many seconds with new records")
    file: Path | None = Field(None, description="Append-only checkpoint file; default: data_dir/checkpoints.jsonl")


class SigningSettings(BaseModel):
    """Signed submissions: the hub's keyring, this client's own key, and whether signatures are required."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    required: bool = Field(True, description="Reject unsigned submissions (signed ones are always verified)")
    keyring: Path | None = Field(None, description="Registered public keys (JSON); default: data_dir/keyring.json")
    key_file: Path | None = Field(None, description="This publisher's Ed25519 private key (PEM), from `hub keys new`")
    hub_key_file: Path | None = Field(
        None, description="The hub's own Ed25519 private key (PEM); default: data_dir/keys/hub.pem, made on first use"
    )


class HealthSettings(BaseModel):
    """The worker's health and metrics endpoints (`/healthz`, `/readyz`, `/metrics`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 in a container")
    port: int | None = Field(None, ge=0, le=65535, description="Port to serve on; 0: a free one (logged); unset: off")


class ServeSettings(BaseModel):
    """`hub serve`: the one web server (dashboard, TAXII 2.1, inbox page)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    host: str = Field("127.0.0.1", description="Address to bind; loopback unless told otherwise")
    port: int = Field(8074, ge=0, le=65535, description="Port; 0: any free one (printed)")
    allow_hosts: list[str] = Field(default_factory=list, description="Host names answered besides loopback's")
    keys_dir: Path | None = Field(
        None, description="Private keys of the organisations the server submits for; default: data_dir/keys"
    )
    tls_certfile: Path | None = Field(None, description="PEM certificate chain: serve HTTPS")
    tls_keyfile: Path | None = Field(None, description="PEM private key of tls_certfile")
    tls_client_ca: Path | None = Field(None, description="PEM CAs whose client certificates are required (mTLS)")


FILES_SCAN_S = 2.0  # a files connector lists its drop directory this often: one listdir when idle
FILE_SETTLE_S = 2.0  # a dropped file untouched this long is complete, where no lease can tell (see connectors/files)


class ConnectorSettings(BaseModel):
    """One connector that `hub up` runs: a source into the hub, a sink of its side's inbox, or both."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    type: Literal["rest", "feed", "files", "taxii"] = Field(
        description="MISP REST API (url, key), a MISP feed directory (dir), drop and inbox directories (files), "
        "or a TAXII 2.1 collection polled for new items (taxii: url, key)"
    )
    side: Literal["EU", "NATO"] = Field(description="The side whose MISP, feed or directories these are")
    role: Literal["source", "sink", "both"] = Field("both", description="Pull into the hub, apply deliveries, or both")
    url: str | None = Field(None, description="MISP base URL (rest): https://, or http:// with allow_http")
    key: SecretStr | None = Field(None, description="MISP API key (rest); or key_file")
    key_file: Path | None = Field(None, description="File holding the MISP API key (rest); or key")
    verify_tls: bool = Field(True, description="false: accept any certificate (warned once per run)")
    ca_bundle: Path | None = Field(None, description="PEM file of the CAs that sign the MISP's certificate")
    allow_http: bool = Field(False, description="Accept a plain http:// url (the key then crosses unencrypted)")
    timeout_s: float = Field(300.0, ge=1, le=3600, description="Longest wait for one whole answer from the peer")
    max_answer_mib: int = Field(64, ge=1, le=64, description="Largest answer read from the peer, decompressed")
    dir: Path | None = Field(None, description="Feed directory (feed)")
    distribution: int = Field(3, ge=0, le=4, description="Distribution given to feed events that carry none")
    interval_s: float = Field(60.0, ge=1, le=86_400, description="Seconds between two pulls (files: 2 s)")
    drop_dir: Path | None = Field(None, description="Drop directory (files): one envelope or STIX bundle per file")
    inbox_dir: Path | None = Field(None, description="Inbox directory (files): one file per delivery")
    inbox_format: Literal["envelope", "stix"] = Field(
        "envelope", description="What an inbox file holds (files): the delivered envelope, or a STIX 2.1 bundle"
    )
    max_file_mib: int = Field(64, ge=1, le=64, description="Largest file taken from the drop directory (files)")
    settle_s: float = Field(
        FILE_SETTLE_S, ge=0, le=3600, description="A dropped file unchanged this long is complete (files)"
    )

    @model_validator(mode="before")
    @classmethod
    def _files_scan_often(cls, data: Any) -> Any:
        """A drop directory is listed every FILES_SCAN_S unless `interval_s` says otherwise."""
        if isinstance(data, dict) and data.get("type") == "files" and data.get("interval_s") is None:
            return {**data, "interval_s": FILES_SCAN_S}
        return data

    @model_validator(mode="before")
    @classmethod
    def _taxii_is_a_source(cls, data: Any) -> Any:
        """A taxii connector polls a collection: its role is `source` unless said otherwise (and then refused)."""
        if isinstance(data, dict) and data.get("type") == "taxii" and data.get("role") is None:
            return {**data, "role": "source"}
        return data

    @model_validator(mode="after")
    def _peer_given(self) -> ConnectorSettings:
        if self.type == "files":
            return self._directories_given()
        if self.type == "feed":
            if self.dir is None:
                raise ValueError("a feed connector needs `dir`")
            return self
        if self.type == "taxii" and self.role != "source":
            raise ValueError('a taxii connector is a source (`role = "source"`): it polls a collection')
        if not self.url:
            raise ValueError(f"a {self.type} connector needs `url`")
        if (self.key is None) == (self.key_file is None):
            raise ValueError(f"a {self.type} connector needs one of `key` and `key_file`")
        if self.ca_bundle is not None and not self.verify_tls:
            raise ValueError("`ca_bundle` and `verify_tls = false` contradict each other; keep one")
        _check_url(self.url, self.allow_http)
        return self

    def _directories_given(self) -> ConnectorSettings:
        """A files connector: the directories its role needs, and two different ones."""
        if self.dir is not None:
            raise ValueError("a files connector takes `drop_dir` and `inbox_dir`, not `dir`")
        if self.role in ("source", "both") and self.drop_dir is None:
            raise ValueError(f"a files connector with role {self.role} needs `drop_dir`")
        if self.role in ("sink", "both") and self.inbox_dir is None:
            raise ValueError(f"a files connector with role {self.role} needs `inbox_dir`")
        if self.role == "both" and Path(str(self.drop_dir)).resolve() == Path(str(self.inbox_dir)).resolve():
            raise ValueError("`drop_dir` and `inbox_dir` are the same directory: deliveries would be submitted back")
        return self


def _check_url(url: str, allow_http: bool) -> None:
    """A MISP base URL: https:// with a host, or http:// when explicitly allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"`url` {url[:200]!r} is not an https:// URL with a host")
    if parts.username or parts.password:
        raise ValueError("`url` must not carry credentials; give the API key as `key` or `key_file`")
    if parts.query or parts.fragment:
        raise ValueError("`url` is the MISP base URL: no query or fragment")
    if parts.scheme == "http" and not allow_http:
        raise ValueError(
            f"`url` {url[:200]!r} is plain HTTP: the API key and the events would cross unencrypted; "
            "use https://, or set allow_http = true (--allow-http) to accept it"
        )


class Settings(BaseSettings):
    """All of the hub's configuration."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_nested_delimiter="__", frozen=True, extra="forbid")

    app_id: str = Field("exchange-hub", pattern=r"^[A-Za-z0-9._-]+$", description="Consumer group and topic prefix")
    data_dir: Path = Field(Path("hub-data"), description="Where the SQLite ledger and worker state live")
    ledger_url: str | None = Field(None, description="sqlite:///path or postgresql://...; default: data_dir/ledger.db")
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    checkpoints: CheckpointSettings = Field(default_factory=CheckpointSettings)
    recipients: dict[str, list[str]] = Field(default_factory=dict, description="Extra names per side (EU, NATO)")
    signing: SigningSettings = Field(default_factory=SigningSettings)
    policy_file: Path | None = Field(None, description="Release policy per destination (TOML); default: built in")
    connectors: list[ConnectorSettings] = Field(
        default_factory=list, description="MISP and files connectors run by `hub up`"
    )
    misp_key: SecretStr | None = Field(None, description="MISP API key of `hub misp pull|push` (HUB_MISP_KEY)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field("text", description="json: one JSON object per line")
    health: HealthSettings = Field(default_factory=HealthSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    store: bool = Field(
        True, description="Keep each side's deliveries in the ledger's database (TAXII, the inbox page); false: off"
    )
    shutdown_grace_s: float = Field(
        10.0, gt=0, le=3600, description="On SIGTERM, how long the worker may take to finish its batch and stop"
    )
    broker_log: str = Field(
        "error", pattern=r"^[A-Za-z0-9_=:,.]+$", description="Log filter (RUST_LOG) of the embedded Tansu broker"
    )

    @property
    def ledger(self) -> str:
        """The ledger URL in force."""
        return self.ledger_url or f"sqlite:///{self.data_dir / 'ledger.db'}"

    @property
    def keyring(self) -> Path:
        """The keyring file in force."""
        return self.signing.keyring or self.data_dir / "keyring.json"

    @property
    def checkpoint_file(self) -> Path:
        """The append-only checkpoint file in force."""
        return self.checkpoints.file or self.data_dir / "checkpoints.jsonl"

    @property
    def hub_key_file(self) -> Path:
        """The hub's own private key file in force."""
        return self.signing.hub_key_file or self.data_dir / "keys" / "hub.pem"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from `overrides`, the environment and `config_file`; ConfigError if invalid."""
    # The file is named on a subclass, not in module state: each call reads only its own file.
    model = Settings if config_file is None else _with_file(read_config(config_file))
    try:
        return model(**overrides)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"setting `{where}`: {err['msg'].removeprefix('Value error, ')}") from exc
    except (ValueError, RecursionError) as exc:  # a malformed HUB_* value (JSON of a list, say)
        raise ConfigError(f"settings from the environment: {str(exc)[:300]}") from exc


def read_config(config_file: Path) -> dict[str, Any]:
    """The TOML config file, read within CONFIG_FILE_LIMIT; ConfigError naming the file and the problem."""
    text = read_text(config_file, CONFIG_FILE_LIMIT, "config file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {config_file}: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"config file {config_file}: nested too deeply to be a hub config") from exc


def _with_file(data: dict[str, Any]) -> type[Settings]:
    """`Settings` reading the config file's `data` under the environment."""

    def sources(
        cls: type[BaseSettings],
        /,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        **_: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, InitSettingsSource(settings_cls, init_kwargs=data)

    namespace = {"settings_customise_sources": classmethod(sources), "__doc__": Settings.__doc__}
    return type("FileSettings", (Settings,), namespace)
