"""The command line as a user runs it: subprocesses on a fresh SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_path


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "LEGATION_DATA_DIR": str(tmp_path / "data"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    env.pop("LEGATION_DATABASE_URL", None)

    def call(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "legation", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return call


def test_import_ingest_run(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("db", "upgrade")
    registry = shared_path("data", "missions", "embassies-wikidata-2022-11.csv")
    imported = run("sites", "import", str(registry))
    assert "9851 added" in imported.stdout and "1132 without coordinates" in imported.stdout
    assert "no coordinates" in imported.stderr  # the first of them are listed
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "a.jsonl").write_text(
        '{"id": "1", "language": "en", "published": "2017-05-31T08:00:00+00:00", '
        '"text": "A truck bomb exploded near the German embassy in Kabul, killing ninety people."}\n'
        "{broken\n",
        "utf-8",
    )
    ingested = run("ingest", "folder", str(reports))
    assert "1 new" in ingested.stdout and "a.jsonl:2: not JSON" in ingested.stderr
    run("run", "--once")
    again = run("ingest", "folder", str(reports))
    assert "1 already stored" in again.stdout
    run("check-config")


def test_errors_are_one_line_and_name_the_input(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = run("sites", "import", str(tmp_path / "nope.csv"), ok=False)
    assert missing.returncode == 1
    assert "nope.csv" in missing.stderr and "Traceback" not in missing.stderr


def test_demo_without_serving(run) -> None:  # type: ignore[no-untyped-def]
    done = run("demo", "--no-serve")
    assert "Embassy of Germany in Kabul" in done.stdout
    assert "assessed as of 2017-06-04" in done.stdout


def test_the_demo_makes_one_dashboard_login_outside_production(tmp_path: Path) -> None:
    from legation.pipeline.demo import run_demo
    from legation.settings import Settings
    from legation.storage.db import make_engine, session_factory
    from legation.storage.users import authenticate_user

    settings = Settings(data_dir=tmp_path)
    first = run_demo(settings)
    login = first["login"]
    assert login is not None and login["username"] == "demo-admin"
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with session_factory(engine)() as session:
            user = authenticate_user(session, username="demo-admin", password=login["password"])
            assert user is not None and user.role == "admin"
            wrong = authenticate_user(session, username="demo-admin", password="dev-admin-key")
            assert wrong is None
    finally:
        engine.dispose()
    assert run_demo(settings)["login"] is None  # a second run makes no new login
