"""A live dashboard for browser tests and the benchmark: uvicorn in a thread, Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from legation.settings import Settings
from tests import live_server

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium tries Google's hosts at every start and this
# machine's closed network refuses them.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def serve(database_url: str, data_dir: Path) -> Iterator[str]:
    """The API and dashboard on a free local port; yields the base URL."""
    settings = Settings(
        environment="test",
        database_url=database_url,
        data_dir=data_dir,
        admin_api_key="test-admin-key",  # type: ignore[arg-type]
    )
    with live_server.serve(settings) as base:
        yield base
