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
from legation.storage.users import WebSessionRow
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
