"""docker-compose.yml cannot run here (no Docker engine): check it against the Compose specification and the settings.

The Compose specification's JSON Schema is vendored in `compose_spec/` (from the PyPI package
docker-compose 1.29.2, Apache-2.0). Every `HUB_*` variable must be a setting and validate.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from hub.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SPEC = json.loads((Path(__file__).parent / "compose_spec" / "compose_spec.json").read_text())


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


def test_compose_file_validates_against_the_compose_specification():
    validator = jsonschema.validators.validator_for(SPEC)(SPEC)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(COMPOSE)]
    assert errors == []


def test_the_schema_check_can_fail():
    validator = jsonschema.validators.validator_for(SPEC)(SPEC)
    broken = {**COMPOSE, "services": {**COMPOSE["services"], "worker": {**COMPOSE["services"]["worker"], "replica": 2}}}
    assert [e.message for e in validator.iter_errors(broken)]


def test_kafka_keeps_its_data_on_its_volume_and_advertises_an_external_listener():
    kafka = COMPOSE["services"]["kafka"]
    env = kafka["environment"]
    assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert "kafka-data:/var/lib/kafka/data" in kafka["volumes"]
    assert (
        "EXTERNAL://${KAFKA_ADVERTISED_HOST:-localhost}:${KAFKA_EXTERNAL_PORT:-9094}"
        in env["KAFKA_ADVERTISED_LISTENERS"]
    )
    assert "EXTERNAL://:9094" in env["KAFKA_LISTENERS"]
    assert kafka["ports"] == ["${KAFKA_EXTERNAL_BIND:-127.0.0.1}:${KAFKA_EXTERNAL_PORT:-9094}:9094"]


def test_workers_start_after_init_and_are_checked_on_readyz():
    services = COMPOSE["services"]
    init, worker = services["init"], services["worker"]
    assert worker["depends_on"] == {"init": {"condition": "service_completed_successfully"}}
    assert init["restart"] == "no"  # a missing file is one line and a stop, never a crash loop
    assert "hub init" in init["command"][0]
    assert "exit 2" in init["command"][0]
    assert (
        "./deploy:/etc/hub:ro" in init["volumes"]
    )  # the directory, never a missing file Docker would make a directory
    port = worker["environment"]["HUB_HEALTH__PORT"]
    assert f"http://127.0.0.1:{port}/readyz" in worker["healthcheck"]["test"][-1]
    assert (ROOT / "deploy" / "prometheus.yml").is_file()
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    assert scrape["scrape_configs"][0]["dns_sd_configs"][0]["port"] == int(port)
