"""``legation partners`` as an operator runs it, against a live server of our own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from legation.settings import Settings
from legation.storage.migrate import upgrade
from tests.cli_run import legation_in
from tests.live_server import serve

pytestmark = pytest.mark.slow


def test_partner_commands(tmp_path: Path) -> None:
    run = legation_in(tmp_path / "data")
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
    assert "--within-km -3.0: give a positive number" in run(
        "partners", "collection-add", "Bad", "--alias", "bad", "--within-km", "-3", ok=False
    )
    run("partners", "collection-add", "Close", "--alias", "close", "--within-km", "25")
    assert "0 incidents published" in run("partners", "publish", "close")
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


def test_partner_credential_commands(tmp_path: Path) -> None:
    run = legation_in(tmp_path / "data", drop=("LEGATION_PARTNER_PASSWORD",))
    run("db", "upgrade")
    # the password is asked for when no variable holds it, and never echoed
    added = run("partners", "add", "allied", "--username", "allied", stdin="first-pass\n")
    assert "first-pass" not in added
    url = f"sqlite:///{tmp_path / 'data' / 'legation.db'}"
    with serve(Settings(database_url=url, environment="test")) as base:  # type: ignore[call-arg]
        import httpx

        def status(auth: tuple[str, str] | None = None, key: str | None = None) -> int:
            headers = {"Accept": "application/taxii+json;version=2.1"}
            if key:
                headers["Authorization"] = f"Bearer {key}"
            return httpx.get(f"{base}/taxii2/", auth=auth, headers=headers).status_code

        old_key = re.search(r"API key: (\S+)", added)
        assert old_key is not None and status(key=old_key.group(1)) == 200
        assert status(("allied", "first-pass")) == 200
        run("partners", "set-password", "allied", LEGATION_PARTNER_PASSWORD="second-pass")
        assert status(("allied", "first-pass")) == 401  # no cached login outlives the change
        assert status(("allied", "second-pass")) == 200
        new_key = re.search(r"new API key: (\S+)", run("partners", "rotate-key", "allied"))
        assert new_key is not None
        assert status(key=old_key.group(1)) == 401 and status(key=new_key.group(1)) == 200
        assert "TLP:AMBER" in run("partners", "set-clearance", "allied", "amber")
        assert "amber" in run("partners", "list")
        run("partners", "disable", "allied")
        assert status(("allied", "second-pass")) == 401 and status(key=new_key.group(1)) == 401
        run("partners", "remove", "allied")
        assert "allied" not in run("partners", "list")
        assert "does not exist" in run("partners", "remove", "allied", ok=False)
