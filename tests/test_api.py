"""The HTTP API: keys and roles on every endpoint but health, the error shape, the main flows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.pipeline.worker import process_batch
from legation.settings import Settings

ADMIN = {"Authorization": "Bearer test-admin-key"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _key(client: TestClient, role: str) -> dict[str, str]:
    answer = client.post("/api/v1/keys", json={"name": f"{role}-key", "role": role}, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return {"X-API-Key": answer.json()["key"]}


def assert_error_shape(answer: object, status: int) -> None:
    assert getattr(answer, "status_code") == status  # noqa: B009
    body = answer.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}
    assert body["error"]["message"]


def test_every_endpoint_but_health_needs_a_key(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert len(paths) > 10
    for template, operations in paths.items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method in operations:
            answer = client.request(method.upper(), path, json=[] if method == "post" else None)
            if template.endswith("/health"):
                assert answer.status_code == 200
            else:
                assert_error_shape(answer, 401)
                assert answer.headers["www-authenticate"] == "Bearer"


def test_wrong_key_is_refused(client: TestClient) -> None:
    assert_error_shape(client.get("/api/v1/sites", headers={"X-API-Key": "nope"}), 401)


def test_roles(client: TestClient) -> None:
    viewer, analyst = _key(client, "viewer"), _key(client, "analyst")
    report = [
        {"text": "A bomb exploded in Kabul on Monday, killing four people.", "language": "en"}
    ]
    assert client.get("/api/v1/sites", headers=viewer).status_code == 200
    assert_error_shape(client.post("/api/v1/reports", json=report, headers=viewer), 403)
    assert client.post("/api/v1/reports", json=report, headers=analyst).status_code == 202
    assert_error_shape(
        client.post("/api/v1/keys", json={"name": "x", "role": "admin"}, headers=analyst), 403
    )


def test_push_then_read_incident_with_spans(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    client.post(
        "/api/v1/sites",
        headers=ADMIN,
        json=[
            {
                "key": "de-kabul",
                "name": "Embassy of Germany in Kabul",
                "operator": "Germany",
                "country": "Afghanistan",
                "city": "Kabul",
                "lat": 34.5352,
                "lon": 69.1849,
            }
        ],
    )
    text = (
        "A truck bomb exploded near the German embassy in Kabul on Wednesday morning, "
        "killing ninety people and wounding hundreds."
    )
    pushed = client.post(
        "/api/v1/reports",
        headers=ADMIN,
        json=[
            {"text": text, "language": "en", "published": "2017-05-31T10:00:00+04:30", "id": "r1"},
            {
                "text": text,
                "language": "en",
                "published": "2017-05-31T11:00:00+04:30",
                "id": "r1-again",
            },
            {"text": "   ", "language": "en"},
        ],
    ).json()["results"]
    assert [r.get("status") for r in pushed[:2]] == ["new", "duplicate"]
    assert "no text" in pushed[2]["error"]

    batch = process_batch(factory, limit=10, clock=lambda: datetime(2017, 5, 31, 12, tzinfo=UTC))
    (incident_id,) = batch.incidents
    incident = client.get(f"/api/v1/incidents/{incident_id}", headers=ADMIN).json()
    assert incident["type"] == "bombing" and incident["place"]["name"] == "Kabul"
    assert [s["key"] for s in incident["sites"]] == ["de-kabul"]
    (report,) = incident["reports"]
    span = report["extraction"]["type"]["span"]
    assert report["text"][span["start"] : span["end"]] == span["text"]
    site = client.get("/api/v1/sites/de-kabul", headers=ADMIN).json()
    assert site["level"] >= 4 and site["reasons"][0]["incident_id"] == incident_id
    assert site["history"][-1]["level"] == site["level"]
    countries = client.get(
        "/api/v1/levels/country?as_of=2017-06-01T00:00:00Z", headers=ADMIN
    ).json()
    assert countries[0]["country"] == "AF" and countries[0]["level"] >= 4


def test_errors_have_one_shape(client: TestClient) -> None:
    assert_error_shape(client.get("/api/v1/incidents/999", headers=ADMIN), 404)
    assert_error_shape(client.get("/api/v1/incidents?type=picnic", headers=ADMIN), 422)
    assert_error_shape(
        client.post("/api/v1/reports", headers=ADMIN, json=[{"title": "no text"}]), 422
    )
    assert_error_shape(
        client.post("/api/v1/alerts/1/state", headers=ADMIN, json={"state": "new"}), 409
    )


def test_appearance_is_assessed(client: TestClient) -> None:
    person = client.post(
        "/api/v1/persons", headers=ADMIN, json={"name": "Ambassador", "nationality": "Germany"}
    )
    body = {
        "person_id": person.json()["id"],
        "venue": "Gallery",
        "lat": 39.92,
        "lon": 32.85,
        "country": "Turkey",
        "starts_at": "2030-01-01T18:00:00Z",
        "ends_at": "2030-01-01T20:00:00Z",
    }
    created = client.post("/api/v1/appearances", headers=ADMIN, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["level"] == 1 and created.json()["checklist"]
    bad = {**body, "ends_at": "2029-12-31T00:00:00Z"}
    assert_error_shape(client.post("/api/v1/appearances", headers=ADMIN, json=bad), 422)


def test_production_refuses_the_development_key() -> None:
    with pytest.raises(ValueError, match="LEGATION_ADMIN_API_KEY"):
        Settings(environment="production")


def test_oversized_bodies_are_refused_before_reading(
    client: TestClient, settings: Settings
) -> None:
    limit = settings.max_report_bytes * 10
    big = b"[" + b'{"text": "' + b"x" * (limit + 10) + b'"}]'
    answer = client.post(
        "/api/v1/reports", content=big, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert_error_shape(answer, 413)
    assert str(limit) in answer.json()["error"]["message"]
