"""Addresses as they may be shown or stored: without query string, fragment or credentials.

Some list publishers hand out addresses with an access token in the query string (the EU
Financial Sanctions Files) or in the user-info part; those must not reach errors, logs,
terminal output or the database.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """'https://user:pw@host/path/file.csv?token=x#f' -> 'https://host/path/file.csv?[redacted]'."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unreadable address>"
    if port is not None:
        host = f"{host}:{port}"
    query = "[redacted]" if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def redact_text(text: str) -> str:
    """Every address inside ``text`` redacted (for messages of HTTP libraries)."""
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def file_name(url: str) -> str:
    """The last path segment of an address (the file a source was read from)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return "?"
    return path.rstrip("/").rsplit("/", 1)[-1] or "?"
