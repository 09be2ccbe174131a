"""The hub's one frozen settings object: environment (`HUB_*`, nested with `__`) over a TOML file.

Built once by the CLI and passed down; nothing else reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from hub.errors import ConfigError

EMBEDDED_SESSION_TIMEOUT_S = 2.0  # Tansu makes a group join wait half of it: ~1 s start-up
KAFKA_SESSION_TIMEOUT_S = 10.0  # Apache Kafka refuses under group.min.session.timeout.ms (6 s)


class KafkaSettings(BaseModel):
    """Where Kafka is and how to talk to it; no bootstrap means the embedded broker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap: str | None = Field(None, description="host:port[,host:port]; unset starts the embedded broker")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    session_timeout_s: float | None = Field(None, gt=0, description="Default: 2 s embedded, 10 s Kafka")
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

    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_size: int = Field(1000, ge=1, le=100_000, description="Most submissions decided in one transaction")
    batch_within_s: float = Field(0.02, gt=0, le=10, description="Longest wait to fill a batch")


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


class ConnectorSettings(BaseModel):
    """One MISP connector that `hub up` runs: a source into the hub, a sink of its side's inbox, or both."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["rest", "feed"] = Field(description="MISP REST API (url, key) or a feed directory (dir)")
    side: Literal["EU", "NATO"] = Field(description="The side whose MISP or feed this is")
    role: Literal["source", "sink", "both"] = Field("both", description="Pull into the hub, apply deliveries, or both")
    url: str | None = Field(None, description="MISP base URL (rest)")
    key: SecretStr | None = Field(None, description="MISP API key (rest)")
    verify_tls: bool = True
    dir: Path | None = Field(None, description="Feed directory (feed)")
    distribution: int = Field(3, ge=0, le=4, description="Distribution given to feed events that carry none")
    interval_s: float = Field(60.0, gt=0, le=86_400, description="Seconds between two pulls")

    @model_validator(mode="after")
    def _peer_given(self) -> ConnectorSettings:
        if self.type == "rest" and (not self.url or self.key is None):
            raise ValueError("a rest connector needs `url` and `key`")
        if self.type == "feed" and self.dir is None:
            raise ValueError("a feed connector needs `dir`")
        return self


class Settings(BaseSettings):
    """All of the hub's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_nested_delimiter="__", frozen=True, extra="forbid", toml_file=None
    )

    app_id: str = Field("exchange-hub", pattern=r"^[A-Za-z0-9._-]+$", description="Consumer group and topic prefix")
    data_dir: Path = Field(Path("hub-data"), description="Where the SQLite ledger and worker state live")
    ledger_url: str | None = Field(None, description="sqlite:///path or postgresql://...; default: data_dir/ledger.db")
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    recipients: dict[str, list[str]] = Field(default_factory=dict, description="Extra names per side (EU, NATO)")
    signing: SigningSettings = Field(default_factory=SigningSettings)
    policy_file: Path | None = Field(None, description="Release policy per destination (TOML); default: built in")
    connectors: list[ConnectorSettings] = Field(default_factory=list, description="MISP connectors run by `hub up`")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = Field("text", description="json: one JSON object per line")
    health: HealthSettings = Field(default_factory=HealthSettings)
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
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from `overrides`, the environment and `config_file`; ConfigError if invalid."""
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")
    # The file is named on a subclass, not in module state: each call reads only its own file.
    model = Settings if config_file is None else _with_file(config_file)
    try:
        return model(**overrides)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"setting `{where}`: {err['msg']}") from exc
    except ValueError as exc:  # a malformed TOML file
        raise ConfigError(f"config file {config_file}: {exc}") from exc


def _with_file(config_file: Path) -> type[Settings]:
    """`Settings` reading `config_file` under the environment."""
    config = SettingsConfigDict(**{**Settings.model_config, "toml_file": config_file})
    return type("FileSettings", (Settings,), {"model_config": config, "__doc__": Settings.__doc__})
