"""Logging for every `hub` command: text or one JSON object per line, with every configured secret masked.

`HUB_LOG_FORMAT=json` gives one JSON object per line (`ts`, `level`, `logger`, `message`, the
fields a log call passes in `extra`, and `exc` for a traceback), for log shippers. Whatever the
format, the secrets the settings hold (the Kafka SASL password, the ledger URL's password, the
MISP API keys) and every credential form `hub.redact` knows (URL passwords, `?password=`, libpq
`key=value`) are replaced by `***` in every line, also in lines that libraries write: the hub never
logs them on purpose, and this guards against a library or an error message that would.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from hub.redact import install as install_redaction
from hub.redact import redact
from hub.settings import Settings

NOISY = ("aiokafka", "faust", "mode")  # their INFO lines are per-connection chatter; WARNING and above stay
# Attributes every LogRecord has; anything else on a record came from a call's `extra` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold (the SASL password, the ledger URL's password, MISP keys)."""
    held = [settings.kafka.sasl_password, settings.misp_key, *(c.key for c in settings.connectors)]
    found = [s.get_secret_value() for s in held if s is not None]
    password = urlsplit(settings.ledger).password
    return [*found, *([password] if password else [])]


class _Masking:
    """`hub.redact.redact` over a formatted line: a secret, and its JSON-escaped form, become `***`."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = sorted({*secrets, *(json.dumps(s)[1:-1] for s in secrets)}, key=len, reverse=True)

    def mask(self, line: str) -> str:
        return redact(line, self.secrets)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message`, secrets masked."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.masking = _Masking(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self.masking.mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, secrets masked."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.masking = _Masking(secrets)

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return self.masking.mask(json.dumps(doc, default=str, ensure_ascii=False))


def configure_logging(settings: Settings, verbose: bool = False) -> None:
    """Send every log record to stderr in the format the settings name, at their level (DEBUG when verbose).

    Every record is redacted when it is made (`hub.redact.install`), whichever handler prints it, and
    each line again as it is formatted (the JSON form escapes characters a secret may hold).
    """
    secrets = secrets_of(settings)
    install_redaction(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets) if settings.log_format == "json" else TextFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel("DEBUG" if verbose else settings.log_level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def report_error(line: str, settings: Settings | None) -> None:
    """The one line a failed command ends with: plain on stderr, or a JSON log line with `log_format = json`."""
    if settings is None:
        print(line, file=sys.stderr)  # the settings themselves failed: nothing to mask, no format chosen
    elif settings.log_format == "json":
        logging.getLogger("hub").error(line)
    else:
        print(_Masking(secrets_of(settings)).mask(line), file=sys.stderr)
