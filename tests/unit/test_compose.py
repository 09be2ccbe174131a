"""docker-compose.yml cannot run here (no Docker engine): check it against the settings model instead."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from hub.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def hub_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for service in COMPOSE["services"].values():
        env.update({k: str(v) for k, v in (service.get("environment") or {}).items() if k.startswith("HUB_")})
    return env


def field_exists(model: type[BaseModel], path: list[str]) -> bool:
    name, rest = path[0], path[1:]
    field = model.model_fields.get(name)
    if field is None:
        return False
    if not rest:
        return True
    sub = field.annotation
    return isinstance(sub, type) and issubclass(sub, BaseModel) and field_exists(sub, rest)


def test_compose_has_kafka_postgres_and_workers():
    services = COMPOSE["services"]
    assert {"kafka", "postgres", "worker"} <= set(services)
    assert "broker,controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    assert (ROOT / services["worker"]["build"] / "Dockerfile").is_file()
    assert services["worker"]["deploy"]["replicas"] >= 2


@pytest.mark.parametrize("name", sorted(hub_env()))
def test_every_hub_setting_exists(name):
    path = name.removeprefix("HUB_").lower().split("__")
    assert field_exists(Settings, path), f"{name} is not a setting of hub.settings.Settings"


def test_compose_settings_validate(monkeypatch):
    for k, v in hub_env().items():
        monkeypatch.setenv(k, v)
    s = load_settings()
    assert s.kafka.bootstrap == "kafka:9092"
    assert s.ledger.startswith("postgresql://")
    assert not s.kafka.embedded
    assert s.kafka.session_timeout >= 6  # Apache Kafka's group.min.session.timeout.ms
