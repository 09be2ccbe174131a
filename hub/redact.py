"""Credentials out of logs and error messages: every form a ledger URL, a DSN or a client secret takes.

One function, `redact`, hides what looks like a credential in any text: the password of a URL
(`postgresql://hub:PASS@db/hub`, whatever the scheme, even one the hub refuses), credential
parameters of a URL query (`?password=PASS`, `sslpassword`, `token`, `apikey`...), libpq
`key=value` connection strings (`password=PASS`, `password='P A S S'`), and any secret the
settings hold (the SASL password, the MISP keys) wherever it appears verbatim. `install`
applies it to every log record the process makes, whoever logs it and whatever handler
prints it (Faust replaces the handlers; the record factory stays).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

HIDDEN = "***"
MIN_SECRET_CHARS = 4  # shorter "secrets" would blank ordinary words all over the log
# Parameter names that carry a credential in URL queries and libpq connection strings.
_CREDENTIAL_NAMES = r"(?:ssl)?pass(?:word|wd)?|pwd|secret|client_secret|token|access_token|api_?key|auth_?key"
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:/?#@\s'\"]*):(?P<pw>[^@/\s'\"]*)@")
_QUERY = re.compile(rf"(?P<name>[?&;](?:{_CREDENTIAL_NAMES}))=(?P<value>[^&#\s'\"]*)", re.IGNORECASE)
_DSN_QUOTED = re.compile(rf"(?P<name>\b(?:{_CREDENTIAL_NAMES})\s*=\s*)'(?:[^'\\]|\\.)*'", re.IGNORECASE)
_DSN_PLAIN = re.compile(
    rf"(?P<name>(?:^|[\s(,])(?:{_CREDENTIAL_NAMES})\s*=\s*)(?!{re.escape(HIDDEN)})[^\s'\",)]+", re.IGNORECASE
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every credential it holds replaced by `***`."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{HIDDEN}@", text)
    text = _QUERY.sub(lambda m: f"{m['name']}={HIDDEN}", text)
    text = _DSN_QUOTED.sub(lambda m: f"{m['name']}{HIDDEN}", text)
    return _DSN_PLAIN.sub(lambda m: f"{m['name']}{HIDDEN}", text)


class _Redacting:
    """A log record factory that redacts the message and any traceback when the record is made."""

    def __init__(self, base: logging._LogRecordFactory, secrets: tuple[str, ...]) -> None:  # type: ignore[name-defined]
        self.base = base
        self.secrets = secrets

    def __call__(self, *args: object, **kwargs: object) -> logging.LogRecord:
        record: logging.LogRecord = self.base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed log call is logging's to report, not ours
            return record
        record.msg, record.args = redact(message, self.secrets), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
        return record


def install(secrets: Iterable[str] = ()) -> None:
    """Redact every log record made from now on in this process (once; a second call updates the secrets)."""
    current = logging.getLogRecordFactory()
    base = current.base if isinstance(current, _Redacting) else current
    logging.setLogRecordFactory(_Redacting(base, tuple(secrets)))
