"""The dashboard over HTTP: login and sessions, CSRF, roles, headers, escaping of report text."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.tables import AlertRow
from legation.storage.users import (
    check_password,
    hash_password,
    start_session,
    user_for_token,
)
from legation.web.highlight import Segment, segments
from legation.web.login import name_for_log
from tests.web_data import PASSWORD


def login(client: TestClient, user: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": user, "password": password, "csrf": token[1], "next": "/alerts"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/alerts"


def csrf(client: TestClient, path: str = "/alerts") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert found is not None
    return found[1]


def test_pages_need_a_login(client: TestClient) -> None:
    for path in ("/map", "/alerts", "/appearances", "/incidents/1", "/sites/Q-izmir"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")
    assert client.get("/map/data.json").status_code == 401


def test_wrong_password_and_foreign_redirects_are_refused(client: TestClient) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    wrong = client.post(
        "/login", data={"username": "analyst", "password": "nope", "csrf": token[1]}
    )
    assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
    no_csrf = client.post("/login", data={"username": "analyst", "password": PASSWORD})
    assert no_csrf.status_code == 400
    away = client.post(
        "/login",
        data={
            "username": "analyst",
            "password": PASSWORD,
            "csrf": token[1],
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert away.headers["location"] == "/map"
    for target in ("/\\evil.example", "https://evil.example/", "/\tevil", "map"):
        page = client.get("/login")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None
        answer = client.post(
            "/login",
            data={"username": "analyst", "password": PASSWORD, "csrf": found[1], "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/map", target


def test_security_headers_on_pages_not_on_the_api(client: TestClient) -> None:
    page = client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "httponly" in page.headers["set-cookie"].lower()
    assert "content-security-policy" not in client.get("/api/v1/health").headers
    missing = client.get("/api/v1/sites/nothing", headers={"X-API-Key": "test-admin-key"})
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFoundError"


def test_no_inline_script_or_style_in_any_page(client: TestClient, seeded: tuple[int, int]) -> None:
    incident_id, _ = seeded
    login(client, "analyst")
    for path in ("/map", "/alerts", f"/incidents/{incident_id}", "/sites/Q-izmir", "/appearances"):
        html = client.get(path).text
        assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", html) == [], path
        assert " style=" not in html and "<style" not in html, path


def test_hostile_report_text_is_escaped_and_highlighted(
    client: TestClient, seeded: tuple[int, int]
) -> None:
    incident_id, _ = seeded
    login(client, "viewer")
    html = client.get(f"/incidents/{incident_id}").text
    assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;document.title" in html
    assert 'title="place: Izmir">Izmir</mark>' in html
    assert ">two guards were &lt;b</mark>" in html  # a span ending inside a tag stays text
    assert 'href="javascript:' not in html
    assert "Consulate &lt;script&gt;" in html  # sites affected, escaped


def test_viewer_cannot_acknowledge_analyst_can(
    client: TestClient, factory: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    _, alert_id = seeded
    login(client, "viewer")
    token = csrf(client)
    refused = client.post(
        f"/alerts/{alert_id}/state", data={"state": "acknowledged", "csrf": token}
    )
    assert refused.status_code == 403
    assert "to change an alert you need analyst" in refused.text
    with factory() as session:
        assert session.get(AlertRow, alert_id).state == "new"  # type: ignore[union-attr]

    client.cookies.clear()
    login(client, "analyst")
    forged = client.post(f"/alerts/{alert_id}/state", data={"state": "acknowledged", "csrf": "x"})
    assert forged.status_code == 400
    done = client.post(
        f"/alerts/{alert_id}/state",
        data={"state": "acknowledged", "csrf": csrf(client), "note": "on it"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assigned = client.post(
        f"/alerts/{alert_id}/assign",
        data={"assignee": "viewer", "csrf": csrf(client)},
    )
    assert assigned.status_code == 200 and "Done: assigned" in assigned.text
    with factory() as session:
        alert = session.get(AlertRow, alert_id)
        assert alert is not None and alert.state == "acknowledged"
        assert alert.acknowledged_by == "analyst" and alert.note is not None
        assert "analyst · Acknowledged: on it\n" in alert.note  # then the assignment
    listed = client.get("/alerts?state=acknowledged").text
    assert "assigned to viewer" in listed


def test_unknown_state_and_unknown_alert_are_named(
    client: TestClient, seeded: tuple[int, int]
) -> None:
    _, alert_id = seeded
    login(client, "analyst")
    bad = client.post(f"/alerts/{alert_id}/state", data={"state": "gone", "csrf": csrf(client)})
    assert bad.status_code == 409 and "gone" in bad.text
    missing = client.post("/alerts/999999/state", data={"state": "resolved", "csrf": csrf(client)})
    assert missing.status_code == 404 and "alert 999999 does not exist" in missing.text


def test_map_data_and_pages(client: TestClient, seeded: tuple[int, int]) -> None:
    login(client, "viewer")
    data = client.get("/map/data.json").json()
    assert data["sites"]["key"] == ["Q-izmir"] and data["sites"]["level"] == [4]
    assert data["incidents"]["type"] == ["armed_assault"]
    page = client.get("/map").text
    assert 'href="/sites/Q-izmir"' in page
    site = client.get("/sites/Q-izmir").text
    assert "4 · High" in site and f"/incidents/{seeded[0]}" in site
    assert client.get("/sites/none").status_code == 404
    bad = client.get("/incidents/abc")
    assert bad.status_code == 400 and "incident_id &#39;abc&#39;" in bad.text


def test_plan_an_appearance(client: TestClient) -> None:
    login(client, "viewer")
    refused = client.post("/appearances", data={"csrf": csrf(client, "/appearances")})
    assert refused.status_code == 403
    client.cookies.clear()
    login(client, "analyst")
    form = {
        "csrf": csrf(client, "/appearances"),
        "person_name": "Ambassador Test",
        "nationality": "Germany",
        "venue": "Izmir fair",
        "country": "Turkey",
        "lat": "38.42",
        "lon": "27.14",
        "starts_at": "2030-01-01T10:00",
        "ends_at": "2030-01-01T09:00",
    }
    wrong = client.post("/appearances", data=form)
    assert wrong.status_code == 400 and "ends" in wrong.text and 'value="Izmir fair"' in wrong.text
    form["ends_at"] = "2030-01-01T12:00"
    form["person_site"] = "Q-nowhere"
    unknown = client.post("/appearances", data=form)
    assert unknown.status_code == 400
    assert "site 'Q-nowhere' does not exist" in html.unescape(unknown.text)
    form["person_site"] = "Q-izmir"
    made = client.post("/appearances", data=form)
    assert made.status_code == 200 and "Ambassador Test at Izmir fair" in made.text
    assert "Checklist" in made.text
    assert "Ambassador Test at Izmir fair" in client.get("/sites/Q-izmir").text


def test_logout_ends_the_session(client: TestClient) -> None:
    login(client, "viewer")
    old = client.cookies["legation_session"]
    assert client.get("/map", follow_redirects=False).status_code == 200
    assert client.post("/logout", data={"csrf": csrf(client)}).status_code == 200
    assert client.get("/map", follow_redirects=False).status_code == 303
    # The old cookie, sent again (as a copy of it would be), is refused: the session is gone.
    client.cookies.set("legation_session", old)
    replayed = client.get("/map", follow_redirects=False)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/login")
    assert client.get("/map/data.json").status_code == 401


def test_sessions_expire(factory: sessionmaker[Session], seeded: tuple[int, int]) -> None:
    with transaction(factory) as session:
        fresh = start_session(session, user_id=1, lifetime=timedelta(hours=1))
        stale = start_session(session, user_id=1, lifetime=timedelta(seconds=-1))
    with factory() as session:
        assert user_for_token(session, token=fresh) is not None
        assert user_for_token(session, token=stale) is None
        assert user_for_token(session, token="made-up") is None


def test_password_hashes() -> None:
    stored = hash_password("a long password")
    assert stored.startswith("scrypt$") and "a long password" not in stored
    assert check_password("a long password", stored)
    assert not check_password("a long passwore", stored)
    assert not check_password("x", "garbage")


def test_segments_cover_the_text_once() -> None:
    text = "Gunmen shot the ambassador in Ankara."
    spans = [(0, 6, "perpetrator", "Gunmen"), (30, 36, "place", "Ankara"), (2, 9, "x", "y")]
    got = segments(text, [*spans, (30, 99, "bad", "out of range")])
    assert "".join(s.text for s in got) == text
    assert Segment("Ankara", "place", "Ankara", (("place", "Ankara"),)) in got
    # The overlapping spans are both kept: "Gu" perpetrator, "nmen" both, " sh" x.
    marked = [(s.text, [f[0] for f in s.fields]) for s in got if s.label]
    assert marked == [
        ("Gu", ["perpetrator"]),
        ("nmen", ["perpetrator", "x"]),
        (" sh", ["x"]),
        ("Ankara", ["place"]),
    ]
    nested = segments("a bomb in Ankara", [(0, 16, "type", "bombing"), (10, 16, "place", "A")])
    assert [(s.text, s.label, s.title) for s in nested] == [
        ("a bomb in ", "type", "type: bombing"),
        ("Ankara", "place", "place: A; type: bombing"),
    ]


def test_tile_layer_only_when_configured(settings: Settings, seeded: tuple[int, int]) -> None:
    with TestClient(create_app(settings)) as plain:
        login(plain, "viewer")
        page = plain.get("/map")
        assert "data-tiles" not in page.text
        assert "img-src 'self' data:;" in page.headers["content-security-policy"]
    tiled = settings.model_copy(update={"tile_url": "https://tiles.example.org/{z}/{x}/{y}.png"})
    with TestClient(create_app(tiled)) as client:
        login(client, "viewer")
        page = client.get("/map")
        assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in page.text
        assert (
            "img-src 'self' data: https://tiles.example.org;"
            in page.headers["content-security-policy"]
        )


def test_users_create_command(tmp_path: Path) -> None:
    env = {**os.environ, "LEGATION_DATA_DIR": str(tmp_path), "NO_COLOR": "1"}
    env.pop("LEGATION_DATABASE_URL", None)
    run = [sys.executable, "-m", "legation"]
    subprocess.run([*run, "db", "upgrade"], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [*run, "users", "create", "alice", "--role", "analyst"],
        env=env,
        input="a long password\na long password\n",
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    assert "a long password" not in made.stdout + made.stderr
    short = subprocess.run(
        [*run, "users", "create", "bob", "--password", "short"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert short.returncode == 1 and "password for 'bob' has 5 characters" in short.stderr
    again = subprocess.run(
        [*run, "users", "create", "alice", "--password", "another long one"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1 and "exists already" in again.stderr


def test_only_an_admin_manages_users(client: TestClient) -> None:
    login(client, "analyst")
    assert client.get("/admin/users").status_code == 403
    assert ">Users</a>" not in client.get("/map").text
    refused = client.post(
        "/admin/users",
        data={"csrf": csrf(client), "username": "eve", "password": "x" * 12, "role": "admin"},
    )
    assert refused.status_code == 403
    client.cookies.clear()
    login(client, "admin")
    token = csrf(client, "/admin/users")
    short = client.post(
        "/admin/users",
        data={"csrf": token, "username": "eve", "password": "short", "role": "viewer"},
    )
    assert (
        short.status_code == 400
        and "5 characters" in short.text
        and "short" not in re.findall(r'value="([^"]*)"', short.text)
    )
    made = client.post(
        "/admin/users",
        data={"csrf": token, "username": "eve", "password": "x" * 12, "role": "viewer"},
    )
    assert (
        made.status_code == 200
        and "Done: user created" in made.text
        and "<td>eve</td>" in made.text
    )
    twice = client.post(
        "/admin/users",
        data={"csrf": token, "username": "eve", "password": "x" * 12, "role": "viewer"},
    )
    assert twice.status_code == 400 and "exists already" in twice.text


def test_migration_0004_goes_down_and_up(database_url: str) -> None:
    from sqlalchemy import inspect

    from legation.storage.db import make_engine
    from legation.storage.migrate import downgrade, upgrade

    downgrade(database_url, "0001")
    engine = make_engine(database_url)
    try:
        assert "users" not in inspect(engine).get_table_names()
        engine.dispose()
        upgrade(database_url)
        names = set(inspect(engine).get_table_names())
        assert {"users", "web_sessions", "alert_assignments", "alerts"} <= names
    finally:
        engine.dispose()


def test_logins_are_logged_without_secrets(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="legation.web.login")
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    client.post(
        "/login", data={"username": "viewer", "password": "wrong-secret-xyz", "csrf": token[1]}
    )
    login(client, "viewer")
    events = [(r.getMessage(), getattr(r, "fields", {}).get("user")) for r in caplog.records]
    # A refused name is logged as a hash prefix and length, never as typed.
    assert ("login refused", name_for_log("viewer")) in events and ("login", "viewer") in events
    assert "sha256:" in name_for_log("viewer") and "viewer" not in name_for_log("viewer")
    logged = caplog.text + " ".join(str(getattr(r, "fields", {})) for r in caplog.records)
    assert "wrong-secret-xyz" not in logged and PASSWORD not in logged
    session_cookie = client.cookies.get("legation_session")
    assert session_cookie and session_cookie not in logged


def test_spans_land_on_the_words_they_were_read_from_when_the_title_was_read_too() -> None:
    from legation.extract.extractor import extract_report
    from legation.extract.text import read_text
    from legation.storage.incidents import extraction_to_json
    from legation.web.highlight import evidence_spans, report_segments

    title = "Truck bomb devastates Kabul diplomatic quarter"
    text = "A truck bomb exploded near Zanbaq Square in Kabul, killing ninety people."
    read = read_text(title, text)
    extraction = extract_report(read, language="en")
    spans = evidence_spans(extraction_to_json(extraction))
    assert spans
    in_title, in_text = report_segments(title, text, spans)
    assert in_title is not None
    marked = [s for s in [*in_title, *in_text] if s.label]
    assert marked
    for seg in marked:  # each highlighted piece is the very text of a span it stands for
        assert any(seg.text in read[a:b] for a, b, _, _ in spans), seg
    assert "".join(s.text for s in in_text) == text and "".join(s.text for s in in_title) == title
    assert any(s.label == "place" and s.text == "Kabul" for s in marked)
