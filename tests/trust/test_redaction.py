"""Credentials never shown: every form a ledger URL, a DSN or a client secret takes, in logs and errors."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys

import pytest

from hub.errors import LedgerError
from hub.ledger import Ledger
from hub.redact import install, redact

SECRET = "Pa55-w0rd-SECRET"
FORMS = [
    f"postgresql://hub:{SECRET}@db.example:5432/hub",
    f"postgres://hub:{SECRET}@db.example/hub?sslmode=require",
    f"postgresql://hub@db.example/hub?password={SECRET}",
    f"postgresql://hub@db.example/hub?sslmode=require&PASSWORD={SECRET}",
    f"postgresql://hub@db.example/hub?sslpassword={SECRET}",
    f"host=db.example user=hub password={SECRET} dbname=hub",
    f"host=db.example password = {SECRET} dbname=hub",
    f"host=db.example password='{SECRET} with spaces' dbname=hub",
    f"host=db.example password='{SECRET}\\'quoted' dbname=hub",
    f"mysql://root:{SECRET}@db.example/hub",
    f"http://user:{SECRET}@proxy.example:8080/",
    f"ledger URL 'sqlserver://sa:{SECRET}@db/hub': scheme must be sqlite:/// or postgresql://",
    f"https://misp.example/events?apikey={SECRET}",
]


@pytest.mark.parametrize("text", FORMS)
def test_every_credential_form_is_hidden(text):
    shown = redact(text)
    assert SECRET not in shown
    assert "***" in shown


def test_the_rest_of_the_text_stays_readable():
    assert redact("postgresql://hub:x1x2@db.example:5432/hub") == "postgresql://hub:***@db.example:5432/hub"
    assert redact("host=db password=abcd user=hub") == "host=db password=*** user=hub"
    assert redact("sqlite:///hub-data/ledger.db") == "sqlite:///hub-data/ledger.db"
    assert redact("hub-key=0123abcd submission eu:1") == "hub-key=0123abcd submission eu:1"


def test_known_secrets_are_hidden_wherever_they_appear():
    assert redact(f"SASL handshake for hub with {SECRET} failed", [SECRET]) == "SASL handshake for hub with *** failed"


def test_log_records_are_redacted_whoever_logs_them():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("some.library")
    logger.addHandler(handler)
    before = logging.getLogRecordFactory()
    try:
        install(["sasl-" + SECRET])
        logger.warning("connecting to %s", f"postgresql://hub@db/hub?password={SECRET}")
        logger.warning("sasl password is %s", "sasl-" + SECRET)
        try:
            raise ValueError(f"bad dsn host=db password={SECRET}")
        except ValueError:
            logger.exception("failed")
    finally:
        logging.setLogRecordFactory(before)
        logger.removeHandler(handler)
    text = out.getvalue()
    assert SECRET not in text
    assert text.count("***") == 4
    assert "ValueError: bad dsn host=db password=***" in text


def test_a_wrong_scheme_ledger_url_does_not_show_its_password():
    with pytest.raises(LedgerError) as err:
        Ledger(f"mysql://root:{SECRET}@db.example/hub")
    assert SECRET not in str(err.value)
    assert "mysql://root:***@db.example/hub" in str(err.value)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://nobody:{SECRET}@127.0.0.1:1/none",
        f"postgresql://nobody@127.0.0.1:1/none?password={SECRET}",
        f"host=127.0.0.1 port=1 user=nobody password={SECRET} dbname=none",
    ],
)
def test_a_failing_postgres_ledger_does_not_show_its_password(url):
    with pytest.raises(LedgerError) as err:
        Ledger(url)
    assert SECRET not in str(err.value)


@pytest.mark.e2e
@pytest.mark.parametrize(
    "url", [f"mysql://root:{SECRET}@db.example/hub", f"postgresql://u@127.0.0.1:1/x?password={SECRET}"]
)
def test_the_cli_error_line_hides_the_password(tmp_path, url):
    env = {**os.environ, "HUB_LEDGER_URL": url, "HUB_DATA_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "hub", "counts"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 1
    assert SECRET not in run.stderr + run.stdout
    assert run.stderr.startswith("hub: error: ")
    assert run.stderr.count("\n") == 1
