"""Structured logging: an event name plus key-values, configured once at the entry point."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

_SECRET_KEYS = ("key", "password", "secret", "token", "authorization")


class _KeyValueFormatter(logging.Formatter):
    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = dict(getattr(record, "fields", {}))
        if self.as_json:
            doc = {"level": record.levelname, "logger": record.name, "event": record.getMessage()}
            return json.dumps({**doc, **fields}, default=str, ensure_ascii=False)
        pairs = " ".join(f"{k}={v!r}" for k, v in fields.items())
        return f"{record.levelname:<7} {record.name}: {record.getMessage()} {pairs}".rstrip()


class Logger:
    """A thin wrapper: ``log.info("feed polled", url=..., items=3)``; secrets are masked."""

    def __init__(self, name: str) -> None:
        self._log = logging.getLogger(name)

    def _emit(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if self._log.isEnabledFor(level):
            clean = {k: ("***" if _is_secret(k) else v) for k, v in fields.items()}
            self._log.log(level, event, extra={"fields": clean})

    def debug(self, event: str, **fields: Any) -> None:
        self._emit(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit(logging.ERROR, event, fields)


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_KEYS)


def get_logger(name: str) -> Logger:
    return Logger(name)


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    """Send records to stderr in key-value or JSON form; quiet noisy libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_KeyValueFormatter(as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "trafilatura", "urllib3", "alembic", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
