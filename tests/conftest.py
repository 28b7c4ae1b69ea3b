"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, settings, an API client.

Tests that take ``database_url`` (or anything built on it) run once per backend. PostgreSQL
comes from LEGATION_TEST_POSTGRES_URL (default: the local server, database ``test``); each
test session creates its own database there and drops it at the end. Where no PostgreSQL
answers, those runs are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from legation.settings import Settings
from legation.storage.db import make_engine, session_factory
from legation.storage.migrate import upgrade
from legation.storage.tables import Base

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"
SCENARIO = SHARED / "scenarios" / "ankara-2016"
POSTGRES_URL = os.environ.get("LEGATION_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


def shared_path(*parts: str) -> Path:
    """A file under ../shared; the test is skipped, with the reason, when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (the shared data folder sits beside the repository)")
    return path


def _postgres_admin_url() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return POSTGRES_URL
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL to test against
        return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = _postgres_admin_url()
    if admin is None:
        pytest.skip(f"no PostgreSQL reachable at {POSTGRES_URL} (set LEGATION_TEST_POSTGRES_URL)")
    import psycopg

    name = f"legation_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    upgrade(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a fresh SQLite file, or the session's PostgreSQL emptied."""
    if request.param == "sqlite":
        path = tmp_path / "legation.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    _empty_postgres(url)


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name != "alert_rules")
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM alert_rules WHERE name <> 'site level 4 or higher'"))
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=tmp_path,
        admin_api_key="test-admin-key",
    )  # type: ignore[arg-type]
