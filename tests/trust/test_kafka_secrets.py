"""Kafka security settings: SASL/SCRAM and TLS reach aiokafka and Faust; secrets are never shown or logged."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from hub.kafka.config import client_kwargs, faust_credentials
from hub.settings import KafkaSettings, load_settings

SECRET = "s3cret-Pa55-do-not-log"
SASL = {
    "bootstrap": "kafka-1:9093,kafka-2:9093",
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_username": "hub",
    "sasl_password": SECRET,
}


def test_scram_over_tls_reaches_aiokafka():
    kwargs = client_kwargs(KafkaSettings(**SASL), SASL["bootstrap"])
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("hub", SECRET)
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    assert kwargs["bootstrap_servers"] == ["kafka-1:9093", "kafka-2:9093"]


def test_scram_over_tls_reaches_faust():
    auth = credentials_to_aiokafka_auth(faust_credentials(KafkaSettings(**SASL)))
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert auth["sasl_plain_password"] == SECRET
    assert isinstance(auth["ssl_context"], ssl.SSLContext)
    plain = credentials_to_aiokafka_auth(faust_credentials(KafkaSettings(bootstrap="k:9092")))
    assert plain == {"security_protocol": "PLAINTEXT"}


def test_the_password_is_not_in_the_settings_repr_or_dump(monkeypatch):
    monkeypatch.setenv("HUB_KAFKA__SASL_PASSWORD", SECRET)
    settings = load_settings()
    assert settings.kafka.sasl_password is not None
    assert settings.kafka.sasl_password.get_secret_value() == SECRET
    for shown in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.kafka)):
        assert SECRET not in shown


@pytest.mark.broker
def test_the_password_never_reaches_the_worker_log(broker, tmp_path):
    config = tmp_path / "hub.toml"
    config.write_text(f'[kafka]\nsasl_password = "{SECRET}"\n')
    env = {
        **os.environ,
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_KAFKA__BOOTSTRAP": broker.bootstrap,
        "HUB_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "HUB_KAFKA__SASL_MECHANISM": "SCRAM-SHA-256",
        "HUB_KAFKA__SASL_USERNAME": "hub",
        "HUB_LOG_LEVEL": "DEBUG",
    }
    proc = subprocess.run(  # the embedded broker speaks no SASL: the worker must fail, and say so without the secret
        [sys.executable, "-m", "hub", "--config", str(config), "-v", "up"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    log = (proc.stdout + proc.stderr).decode(errors="replace")
    assert proc.returncode != 0
    assert "hub: error:" in log
    assert "DEBUG" in log  # the most verbose logging was on
    assert SECRET not in log
