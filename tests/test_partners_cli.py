"""``legation partners`` as an operator runs it, against a live server of our own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from legation.settings import Settings
from legation.storage.migrate import upgrade
from tests.live_server import serve

pytestmark = pytest.mark.slow


def test_partner_commands(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LEGATION_DATA_DIR": str(tmp_path / "data"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    env.pop("LEGATION_DATABASE_URL", None)

    def run(*args: str, ok: bool = True, **extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "legation", *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (done.returncode == 0) == ok, done.stderr + done.stdout
        return done.stdout + done.stderr

    run("db", "upgrade")
    run("partners", "collection-add", "Near our missions", "--alias", "near", "--max-tlp", "green")
    out = run(
        "partners",
        "add",
        "allied",
        "--clearance",
        "green",
        "--username",
        "allied",
        LEGATION_PARTNER_PASSWORD="s3cret",
    )
    key = re.search(r"API key: (\S+)", out)
    assert key is not None
    run("partners", "grant", "allied", "near", "--write")
    assert "near (rw)" in run("partners", "list")
    assert "0 incidents published" in run("partners", "publish", "near")
    assert "TLP level 'purple' is unknown" in run(
        "partners", "add", "x", "--clearance", "purple", ok=False
    )
    # pull our own collection back over HTTP, as a partner would
    url = f"sqlite:///{tmp_path / 'data' / 'legation.db'}"
    upgrade(url)
    with serve(Settings(database_url=url, environment="test")) as base:  # type: ignore[call-arg]
        target = f"{base}/taxii2/legation/collections/near/"
        pulled = run(
            "partners",
            "pull",
            "allied",
            "--url",
            target,
            LEGATION_REMOTE_USER="allied",
            LEGATION_REMOTE_PASSWORD="s3cret",
        )
        assert "objects received" in pulled
        refused = run(
            "partners",
            "pull",
            "allied",
            "--url",
            target,
            ok=False,
            LEGATION_REMOTE_KEY="k3y-never-printed",
        )
        assert "credentials are unknown" in refused and "k3y-never-printed" not in refused
