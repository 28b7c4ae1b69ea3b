"""Fixes from the dashboard review: expired sessions and forms, logout, inbox changes, limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app  # first: legation.web.auth needs the API loaded
from legation.domain.clock import utcnow
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.tables import AlertRow
from legation.storage.users import WebSessionRow, assign_alert
from legation.web.auth import COOKIE
from tests.test_web import csrf, login
from tests.web_data import add_hostile_incident, add_users


@pytest.fixture
def seeded(factory: sessionmaker[Session]) -> tuple[int, int]:
    with transaction(factory) as session:
        add_users(session)
        return add_hostile_incident(session)


@pytest.fixture
def client(settings: Settings, seeded: tuple[int, int]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def expire_sessions(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.execute(update(WebSessionRow).values(expires_at=utcnow() - timedelta(minutes=1)))


def next_of(location: str) -> str:
    parts = urlsplit(location)
    assert parts.path == "/login", location
    return parse_qs(parts.query)["next"][0]


def test_a_form_sent_after_the_session_expired_returns_to_a_page_not_the_form(
    client: TestClient, factory: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    _, alert_id = seeded
    login(client, "analyst")
    token = csrf(client)
    expire_sessions(factory)
    sent = client.post(
        f"/alerts/{alert_id}/state",
        data={"state": "acknowledged", "csrf": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert next_of(sent.headers["location"]) == "/alerts"
    planned = client.post("/appearances", data={"csrf": token}, follow_redirects=False)
    assert next_of(planned.headers["location"]) == "/appearances"
    admin = client.post("/admin/users", data={"csrf": token}, follow_redirects=False)
    assert next_of(admin.headers["location"]) == "/admin/users"
    # The page the login then opens answers GET (no 405 after logging in again).
    login(client, "analyst")
    assert client.get(next_of(sent.headers["location"])).status_code == 200
    # A GET keeps its own address, query included.
    expire_sessions(factory)
    got = client.get("/alerts?state=escalated&page=2", follow_redirects=False)
    assert next_of(got.headers["location"]) == "/alerts?state=escalated&page=2"


def test_logging_out_with_an_expired_session_clears_the_cookie(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    login(client, "viewer")
    token = csrf(client)
    expire_sessions(factory)
    answer = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "Max-Age=0" in cookie
    assert COOKIE not in client.cookies


def test_a_second_triage_action_keeps_the_first_note(
    client: TestClient, factory: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    _, alert_id = seeded
    login(client, "analyst")
    for state, note in (("acknowledged", "called the <b>consul</b>"), ("resolved", "")):
        sent = client.post(
            f"/alerts/{alert_id}/state", data={"state": state, "csrf": csrf(client), "note": note}
        )
        assert sent.status_code == 200
    client.post(f"/alerts/{alert_id}/assign", data={"assignee": "admin", "csrf": csrf(client)})
    with factory() as session:
        alert = session.get(AlertRow, alert_id)
        assert alert is not None and alert.state == "resolved" and alert.note is not None
        lines = alert.note.splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("analyst · Acknowledged: called the <b>consul</b>")
    assert lines[1].endswith("analyst · Resolved")
    assert lines[2].endswith("analyst · assigned to admin")
    resolved = client.get("/alerts?state=resolved").text
    assert 'aria-current="page">Resolved' in resolved  # the resolved tab exists and is chosen
    assert f'id="alert-{alert_id}"' in resolved
    assert "called the &lt;b&gt;consul&lt;/b&gt;" in resolved


def test_the_inbox_poll_sees_changes_by_others_not_only_new_alerts(
    client: TestClient, factory: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    _, alert_id = seeded
    login(client, "viewer")
    first = client.get("/alerts/updates.json").json()
    assert first["counts"] == {"new": 1}
    assert client.get("/alerts/updates.json").json()["stamp"] == first["stamp"]
    page = client.get("/alerts").text
    assert f'data-stamp="{first["stamp"]}"' in page
    with transaction(factory) as session:
        alert = session.get(AlertRow, alert_id)
        assert alert is not None
        alert.state, alert.escalations, alert.updated_at = "escalated", 1, utcnow()
    escalated = client.get("/alerts/updates.json").json()
    assert escalated["newest"] == first["newest"]  # no new id: only the stamp tells
    assert escalated["stamp"] != first["stamp"] and escalated["counts"] == {"escalated": 1}
    with transaction(factory) as session:
        assign_alert(session, alert_id=alert_id, assignee="analyst", by="admin")
    assert client.get("/alerts/updates.json").json()["stamp"] != escalated["stamp"]
    client.cookies.clear()
    assert client.get("/alerts/updates.json").status_code == 401


def test_out_of_range_numbers_in_addresses_are_refused_not_crashes(client: TestClient) -> None:
    login(client, "viewer")
    for path in (
        "/alerts?page=100000000000000000000",
        "/incidents/99999999999999999999",
        "/incidents/2147483648",
        "/reports/99999999999999999999",
        "/appearances/99999999999999999999",
    ):
        answer = client.get(path)
        assert answer.status_code == 400, path
        assert "text/html" in answer.headers["content-type"]
    assert client.get("/incidents/2147483647").status_code == 404


def test_unknown_addresses_and_methods_get_the_error_page_api_keeps_json(
    client: TestClient,
) -> None:
    login(client, "viewer")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "there is no page at /no-such-page" in missing.text and "<title>" in missing.text
    method = client.put("/alerts")
    assert method.status_code == 405 and "/alerts does not answer PUT" in method.text
    assert "content-security-policy" in method.headers
    api = client.get("/api/v1/no-such-thing", headers={"X-API-Key": "test-admin-key"})
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
    hostile = client.get("/<script>alert(1)</script>")
    assert hostile.status_code == 404 and "<script>alert(1)" not in hostile.text
