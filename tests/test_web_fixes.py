"""Fixes from the dashboard review: expired sessions and forms, logout, inbox changes, limits."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app  # first: legation.web.auth needs the API loaded
from legation.domain.clock import as_utc, utcnow
from legation.settings import Settings
from legation.storage import dashboard as views
from legation.storage.db import transaction
from legation.storage.tables import AlertRow, SiteRow, StaffRow
from legation.storage.users import (
    UserRow,
    WebSessionRow,
    assign_alert,
    start_session,
    user_for_token,
)
from legation.web.app import content_security_policy
from legation.web.auth import COOKIE, MAX_FORM_BYTES
from legation.web.throttle import BASE, FREE, LONGEST, WINDOW, LoginThrottle
from tests.test_web import csrf, login
from tests.web_data import PASSWORD


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


def login_form(client: TestClient, user: str, password: str) -> Response:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    return client.post(
        "/login",
        data={"username": user, "password": password, "csrf": token[1]},
        follow_redirects=False,
    )


def test_throttle_locks_out_with_growing_waits_and_a_success_clears() -> None:
    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(FREE - 1):
        throttle.failed("ann", "1.2.3.4")
    assert throttle.wait_seconds("ann", "1.2.3.4") == 0
    throttle.failed("ann", "1.2.3.4")
    assert throttle.wait_seconds("ann", "1.2.3.4") == BASE
    assert throttle.wait_seconds("ann", "5.6.7.8") == 0  # another address
    assert throttle.wait_seconds("bob", "1.2.3.4") == 0  # another name
    now[0] += BASE
    assert throttle.wait_seconds("ann", "1.2.3.4") == 0
    throttle.failed("ann", "1.2.3.4")
    assert throttle.wait_seconds("ann", "1.2.3.4") == 2 * BASE
    throttle.succeeded("ann", "1.2.3.4")
    assert throttle.wait_seconds("ann", "1.2.3.4") == 0
    for _ in range(40):
        throttle.failed("ann", "1.2.3.4")
    assert throttle.wait_seconds("ann", "1.2.3.4") == LONGEST
    now[0] += WINDOW + 1  # failures older than the window are forgotten
    assert throttle.wait_seconds("ann", "1.2.3.4") == 0


def test_repeated_wrong_passwords_lock_the_login_out(client: TestClient) -> None:
    for _ in range(FREE):
        assert login_form(client, "analyst", "wrong password").status_code == 401
    locked = login_form(client, "analyst", PASSWORD)  # even the right password waits
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "Too many wrong passwords for this user name" in locked.text
    assert "legation_session" not in locked.headers.get("set-cookie", "")
    assert login_form(client, "viewer", PASSWORD).status_code == 303  # another name is free


def test_an_over_large_form_is_refused_by_its_length(client: TestClient) -> None:
    login(client, "analyst")
    big = client.post(
        "/alerts/1/state", content=b"x", headers={"Content-Length": str(MAX_FORM_BYTES + 1)}
    )
    assert big.status_code == 400 and f"at most {MAX_FORM_BYTES}" in big.text
    body = "csrf=" + "x" * (MAX_FORM_BYTES + 10)
    long = client.post(
        "/alerts/1/state",
        content=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert long.status_code == 400 and str(MAX_FORM_BYTES) in long.text


def test_cookie_flags_and_hsts(settings: Settings, seeded: tuple[int, int]) -> None:
    for environment, secure in (("test", False), ("production", True)):
        config = settings.model_copy(update={"environment": environment})
        with TestClient(create_app(config), base_url="https://testserver") as web:
            answer = login_form(web, "viewer", PASSWORD)
            cookie = answer.headers["set-cookie"]
            assert cookie.startswith("legation_session=")
            assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
            assert ("Secure" in cookie) is secure, environment
            hsts = web.get("/login").headers.get("strict-transport-security")
            assert (hsts == "max-age=31536000") is secure, environment


def test_logging_in_again_ends_the_earlier_session(client: TestClient) -> None:
    login(client, "viewer")
    first = client.cookies["legation_session"]
    login(client, "analyst")
    second = client.cookies["legation_session"]
    assert first != second
    client.cookies.set("legation_session", first)
    assert client.get("/map", follow_redirects=False).status_code == 303
    client.cookies.set("legation_session", second)
    assert client.get("/map", follow_redirects=False).status_code == 200


def test_idle_sessions_end_and_used_ones_are_kept_alive(
    factory: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    idle, lifetime = timedelta(minutes=30), timedelta(hours=12)
    with transaction(factory) as session:
        token = start_session(session, user_id=1, lifetime=idle)
        session.flush()
        row = session.query(WebSessionRow).one()
        row.created_at = utcnow() - timedelta(hours=2)
        row.expires_at = utcnow() + timedelta(minutes=5)  # last used 25 minutes ago
    with transaction(factory) as session:
        assert user_for_token(session, token=token, idle=idle, lifetime=lifetime) is not None
    with factory() as session:
        expires = as_utc(session.query(WebSessionRow).one().expires_at)
        assert timedelta(minutes=29) < expires - utcnow() <= idle  # moved on by the use
    with transaction(factory) as session:
        row = session.query(WebSessionRow).one()
        row.created_at = utcnow() - lifetime + timedelta(minutes=10)
        row.expires_at = utcnow() + timedelta(minutes=5)
    with transaction(factory) as session:
        assert user_for_token(session, token=token, idle=idle, lifetime=lifetime) is not None
    with factory() as session:  # never past the lifetime
        expires = as_utc(session.query(WebSessionRow).one().expires_at)
        assert expires - utcnow() <= timedelta(minutes=10)
    with transaction(factory) as session:
        session.query(WebSessionRow).one().expires_at = utcnow() - timedelta(seconds=1)
    with factory() as session:
        assert user_for_token(session, token=token, idle=idle, lifetime=lifetime) is None


def test_session_settings_must_be_positive_and_production_tiles_https() -> None:
    for field in ("session_hours", "session_idle_minutes"):
        for value in (0, -1):
            with pytest.raises(ValidationError, match=field):
                Settings(**{field: value})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="plain http"):
        Settings(
            environment="production",
            admin_api_key="a-real-secret-key-0123456789",  # type: ignore[arg-type]
            tile_url="http://tiles.example/{z}/{x}/{y}.png",
        )


def test_tile_subdomains_are_allowed_by_the_policy(settings: Settings) -> None:
    config = settings.model_copy(update={"tile_url": "https://{s}.tile.example/{z}/{x}/{y}.png"})
    policy = content_security_policy(config)
    for sub in "abc":
        assert f"https://{sub}.tile.example" in policy
    assert "{s}" not in policy


def test_admin_disables_changes_role_and_resets_password(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    viewer = TestClient(client.app)
    login(viewer, "viewer")
    login(client, "analyst")
    refused = client.post(
        "/admin/users/change",
        data={"username": "viewer", "action": "disable", "csrf": csrf(client)},
    )
    assert refused.status_code == 403
    client.cookies.clear()
    login(client, "admin")
    token = csrf(client, "/admin/users")
    forged = client.post(
        "/admin/users/change", data={"username": "viewer", "action": "disable", "csrf": "x"}
    )
    assert forged.status_code == 400
    assert viewer.get("/map", follow_redirects=False).status_code == 200
    done = client.post(
        "/admin/users/change", data={"username": "viewer", "action": "disable", "csrf": token}
    )
    assert done.status_code == 200 and "user disabled" in done.text
    assert viewer.get("/map", follow_redirects=False).status_code == 303  # session ended
    assert login_form(viewer, "viewer", PASSWORD).status_code == 401
    inbox = client.get("/alerts").text
    offered = set(re.findall(r"<option[^>]*>([^<]*)</option>", inbox))
    assert "analyst" in offered and "admin" in offered and "viewer" not in offered
    given = client.post("/alerts/1/assign", data={"assignee": "viewer", "csrf": token})
    assert given.status_code in (404, 409)
    self_off = client.post(
        "/admin/users/change", data={"username": "admin", "action": "disable", "csrf": token}
    )
    assert self_off.status_code == 400 and "cannot disable their own account" in self_off.text
    client.post(
        "/admin/users/change", data={"username": "viewer", "action": "enable", "csrf": token}
    )
    client.post(
        "/admin/users/change",
        data={"username": "viewer", "action": "role", "role": "analyst", "csrf": token},
    )
    bad_role = client.post(
        "/admin/users/change",
        data={"username": "viewer", "action": "role", "role": "<b>god</b>", "csrf": token},
    )
    assert bad_role.status_code == 400 and "&lt;b&gt;god&lt;/b&gt;" in bad_role.text
    short = client.post(
        "/admin/users/change",
        data={"username": "viewer", "action": "password", "password": "short", "csrf": token},
    )
    assert short.status_code == 400 and "use 10 or more" in short.text
    new_password = "a brand new password"
    reset = client.post(
        "/admin/users/change",
        data={"username": "viewer", "action": "password", "password": new_password, "csrf": token},
    )
    assert reset.status_code == 200 and "password set" in reset.text
    assert new_password not in reset.text
    assert login_form(viewer, "viewer", PASSWORD).status_code == 401
    assert login_form(viewer, "viewer", new_password).status_code == 303
    with factory() as session:
        row = session.query(UserRow).filter_by(username="viewer").one()
        assert row.role == "analyst" and not row.disabled


def test_hostile_staff_names_venues_and_reasons_stay_text(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        site = session.query(SiteRow).filter_by(key="Q-izmir").one()
        session.add(StaffRow(site_id=site.id, name='<script>alert("staff")</script>', role="<b>"))
    login(client, "analyst")
    tomorrow = utcnow() + timedelta(days=1)
    made = client.post(
        "/appearances",
        data={
            "csrf": csrf(client, "/appearances"),
            "person_name": "<img src=x onerror=alert('person')>",
            "venue": "<svg onload=alert('venue')>",
            "country": "Turkey",
            "lat": "38.42",
            "lon": "27.14",
            "starts_at": tomorrow.strftime("%Y-%m-%dT10:00"),
            "ends_at": tomorrow.strftime("%Y-%m-%dT12:00"),
            "person_site": "Q-izmir",
        },
    )
    assert made.status_code == 200
    # The reasons name the nearby incident, whose place is hostile text too.
    assert "Izmir &lt;i&gt;onerror&lt;/i&gt;" in made.text
    for page in (made.text, client.get("/sites/Q-izmir").text, client.get("/appearances").text):
        for raw in ("<script>alert", "<img src=x", "<svg onload", "<i>onerror"):
            assert raw not in page
    site_page = client.get("/sites/Q-izmir").text
    assert "&lt;script&gt;alert(&#34;staff&#34;)&lt;/script&gt;" in site_page
    assert "&lt;svg onload=alert(&#39;venue&#39;)&gt;" in site_page


def test_an_unknown_nationality_is_named(client: TestClient) -> None:
    login(client, "analyst")
    answer = client.post(
        "/appearances",
        data={
            "csrf": csrf(client, "/appearances"),
            "person_name": "Ambassador Test",
            "nationality": "Atlantis",
            "venue": "Fair",
            "lat": "38.42",
            "lon": "27.14",
            "starts_at": "2030-01-01T10:00",
            "ends_at": "2030-01-01T12:00",
        },
    )
    assert answer.status_code == 400 and "nationality &#39;Atlantis&#39; is unknown" in answer.text
    huge = client.post(
        "/appearances",
        data={
            "csrf": csrf(client, "/appearances"),
            "person_id": "99999999999999999999",
            "venue": "Fair",
            "lat": "38.42",
            "lon": "27.14",
            "starts_at": "2030-01-01T10:00",
            "ends_at": "2030-01-01T12:00",
        },
    )
    assert huge.status_code == 400 and "protected person 99999999999999999999" in huge.text


def test_sites_affected_reads_only_reachable_sites_and_finds_across_a_border(
    factory: sessionmaker[Session], seeded: tuple[int, int]
) -> None:
    incident_id, _ = seeded
    with transaction(factory) as session:
        izmir = session.query(SiteRow).filter_by(key="Q-izmir").one()
        now = utcnow()
        for key, country, lat, reasons in (
            ("Q-lesbos", "GR", 39.1, [{"incident_id": incident_id, "points": 2.0}]),
            ("Q-quiet", "GR", 39.2, []),
        ):
            session.add(
                SiteRow(
                    key=key,
                    name=key,
                    type="consulate",
                    country="Greece",
                    country_code=country,
                    lat=lat,
                    lon=26.5,
                    level=3,
                    score=2.0,
                    reasons=reasons,
                    created_at=now,
                    updated_at=now,
                )
            )
        assert izmir.level == 4
    with factory() as session:
        found = [s.key for s in views.sites_affected(session, incident_id=incident_id)]
        assert found == ["Q-izmir", "Q-lesbos"]  # level first; the Greek one by latitude
        assert views.sites_affected(session, incident_id=999999) == []
