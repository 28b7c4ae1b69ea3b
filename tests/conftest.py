"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, settings, an API client.

Tests that take ``database_url`` (or anything built on it) run once per backend. PostgreSQL
comes from LEGATION_TEST_POSTGRES_URL (default: the local server, database ``test``); each
test gets a fresh database copied from a migrated template, dropped afterwards. Where no PostgreSQL
answers, those runs are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from legation.settings import Settings
from legation.storage.db import make_engine, session_factory
from legation.storage.migrate import upgrade

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
pytest_plugins = ["tests.http_fixture", "tests.web_fixtures"]

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
def postgres_template() -> Iterator[str]:
    """A migrated template database; each test gets a fresh copy of it."""
    admin = _postgres_admin_url()
    if admin is None:
        pytest.skip(f"no PostgreSQL reachable at {POSTGRES_URL} (set LEGATION_TEST_POSTGRES_URL)")
    name = f"legation_template_{uuid.uuid4().hex[:10]}"
    _admin_sql(f'CREATE DATABASE "{name}"')
    upgrade(_url_for(name))
    make_engine(_url_for(name)).dispose()
    yield name
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(statement)


def _url_for(name: str) -> str:
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a fresh SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "legation.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"legation_test_{uuid.uuid4().hex[:10]}"
    _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _url_for(name)
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
