"""Sanctions service: list versions from a local HTTP server, screening audit, whitelist,
re-screening with alerts; and the CLI forms of `legation screen`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.errors import InputError
from legation.sanctions.service import (
    Query,
    decide,
    diff_versions,
    rescreen_subjects,
    screen,
    update_lists,
)
from legation.settings import Settings
from legation.storage.db import transaction
from legation.storage.screening import ListVersionRow, ScreeningRow
from legation.storage.tables import AlertRow, ChannelRow, DeliveryRow, RuleRow, StaffRow
from tests.conftest import shared_path
from tests.http_fixture import Answer, LocalServer

PERSON = re.compile(rb"<INDIVIDUAL>.*?</INDIVIDUAL>", re.S)


@cache
def _un_small() -> bytes:
    """The real UN list cut to its first 60 individuals (keeps the test quick)."""
    data = shared_path("data", "sanctions", "un_consolidated_2026-02-27.xml").read_bytes()
    people = PERSON.findall(data)[:60]
    head = data[: data.index(b"<INDIVIDUALS>") + len(b"<INDIVIDUALS>")]
    return head + b"".join(people) + b"</INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>"


def _serve(server: LocalServer, body: bytes) -> None:
    server.routes["/un.xml"] = lambda _seen: Answer(200, body)


def _settings(settings: Settings, server: LocalServer) -> Settings:
    return settings.model_copy(
        update={"screening_un_url": server.url("/un.xml"), "screening_sources": "un"}
    )


def test_list_versions_screening_audit_whitelist_and_alerts(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    settings = _settings(settings, local_server)
    first = _un_small()
    _serve(local_server, first)
    with httpx.Client() as client:
        [report] = update_lists(factory, settings, client)
        assert (report.status, report.entity_count) == ("new", 60)
        assert update_lists(factory, settings, client)[0].status == "unchanged"
        _serve(local_server, first[: len(first) // 2])  # truncated download
        broken = update_lists(factory, settings, client)[0]
        assert broken.status == "failed" and "not well-formed" in broken.message
        local_server.routes["/un.xml"] = lambda _seen: Answer(503, b"down")
        assert "HTTP 503" in update_lists(factory, settings, client)[0].message
    with transaction(factory) as session:
        assert len(session.scalars(select(ListVersionRow)).all()) == 1  # failures stored nothing
        row = screen(session, Query("Eric Badege", "Person"), actor="ann", threshold=0.7)
        assert row.results[0]["entity_id"] == "un-CDi.001"
        assert row.list_versions == {"un": report.version_id}
        assert row.algorithm.startswith("legation-screen")
        assert row.results[0]["explanation"]["name"]["score"] >= 0.9
        with pytest.raises(InputError, match="whitelisting needs a reason"):
            decide(
                session,
                screening_id=row.id,
                entity_id="un-CDi.001",
                decision="whitelisted",
                reason="",
                user="ann",
            )
        decide(
            session,
            screening_id=row.id,
            entity_id="un-CDi.001",
            decision="whitelisted",
            reason="our driver, born 1990, checked passport",
            user="ann",
        )
        again = screen(session, Query("Eric Badege", "Person"), actor="ann", threshold=0.7)
        assert again.results[0]["suppressed"] is True
        with pytest.raises(InputError, match="birth_date .3024-01-01. is not YYYY"):
            screen(session, Query("Eric Badege", birth_date="3024-01-01"), actor="a", threshold=0.7)
        # a stored subject and a staff member with a listed name, a rule for screening hits
        channel = ChannelRow(
            name="hook", kind="webhook", target=local_server.url("/hook"), enabled=True
        )
        session.add(channel)
        session.flush()
        session.add(
            RuleRow(
                name="sanctions",
                incident_types=["sanctions_hit"],
                channel_ids=[channel.id],
                notify_officers=False,
                enabled=True,
            )
        )
        session.add(StaffRow(name="Frank Kakolele Bwambale", role="driver"))
    # the listed entry changes (whitelisting lapses) and one entry leaves the list
    changed = first.replace(
        b"<FIRST_NAME>ERIC</FIRST_NAME>",
        b"<FIRST_NAME>ERIC</FIRST_NAME><THIRD_NAME>X</THIRD_NAME>",
        1,
    )
    removed = PERSON.findall(first)[5]
    changed = changed.replace(removed, b"")
    _serve(local_server, changed)
    with httpx.Client() as client:
        assert update_lists(factory, settings, client)[0].status == "new"
    with transaction(factory) as session:
        d = diff_versions(session, "un")
        assert [c[0] for c in d.changed] == ["un-CDi.001"] and len(d.removed) == 1 and d.added == []
        from legation.sanctions.service import add_subject

        add_subject(session, name="BADEGE Eric", kind="payee", birth_date="1971")
    alerts = rescreen_subjects(factory, settings)
    titles = sorted(a.title for a in alerts)
    assert len(titles) == 2 and "BADEGE Eric" in titles[0] and "Kakolele" in titles[1]
    assert rescreen_subjects(factory, settings) == []  # no new hits, no new alerts
    with transaction(factory) as session:
        assert session.scalar(select(AlertRow.id).where(AlertRow.rule_id.is_not(None)))
        assert len(session.scalars(select(DeliveryRow)).all()) == 2
        assert session.scalars(select(ScreeningRow)).all()[-1].actor == "rescreen"
        # whitelisted before the change: suppressed no longer, the entry changed since
        fresh = screen(session, Query("Eric Badege", "Person"), actor="ann", threshold=0.7)
        assert fresh.results[0]["suppressed"] is False


@pytest.fixture
def cli(tmp_path: Path, local_server: LocalServer):  # type: ignore[no-untyped-def]
    _serve(local_server, _un_small())
    env = {
        **os.environ,
        "LEGATION_DATA_DIR": str(tmp_path / "data"),
        "LEGATION_SCREENING_UN_URL": local_server.url("/un.xml"),
        "LEGATION_SCREENING_SOURCES": "un",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    env.pop("LEGATION_DATABASE_URL", None)

    def call(*args: str, stdin: str = "", ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "legation", *args],
            env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return call


def test_cli_screen_forms(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("db", "upgrade")
    assert "no sanctions list is loaded yet" in cli("screen", "Eric Badege", ok=False).stderr
    updated = cli("lists", "update").stdout
    assert "new, version 1, 60 entities" in updated and "0 new alerts" in updated
    assert "designated organisations: 0 new" in updated
    [snapshot] = (tmp_path / "data" / "screening").iterdir()
    assert re.fullmatch(r"index-1-[0-9a-f]{12}\.pickle", snapshot.name)
    one = cli("screen", "Eric Badege", "--birth-date", "1971", "--country", "CD")
    hit = json.loads(one.stdout.splitlines()[0])
    assert hit["entity_id"] == "un-CDi.001" and "birth_date" in hit["explanation"]
    queries = tmp_path / "q.csv"
    queries.write_text("name,birth_date\nEric Badege,1971\n,\nNobody Atall Zzyzx,\n", "utf-8")
    batch = cli("screen", "--input", str(queries), "--format", "csv")
    lines = batch.stdout.splitlines()
    assert lines[0].startswith("line,query,entity_id") and "un-CDi.001" in lines[1]
    assert "line 3: name is missing or empty" in batch.stdout and "1 lines refused" in batch.stderr
    assert lines[-1].startswith("4,Nobody Atall Zzyzx,,")  # no hit: a row all the same
    pairs = (
        '{"id": "p1", "left": {"schema": "Person", "name": "محمد علي"}, "right": {"schema": "Person", "name": "Mohamed Ali"}}\n'
        '{"id": "p2", "left": {"schema": "Person", "name": ""}, "right": {"name": "x"}}\n'
        "broken\n"
    )
    scored = [
        json.loads(x)
        for x in cli("screen", "pairs", "--format", "jsonl", stdin=pairs).stdout.splitlines()
    ]
    assert (
        scored[0]["id"] == "p1" and scored[0]["score"] >= 0.9 and "name" in scored[0]["explanation"]
    )
    assert scored[1] == {"id": "p2", "error": "line 2: left.name is missing or empty"}
    assert scored[2]["error"].startswith("line 3: not JSON")
    assert "0 added, 0 removed, 0 changed" in cli("lists", "diff", "un").stdout
    assert "give either a NAME or --input" in cli("screen", ok=False).stderr


def test_api_match_batch_and_decisions(
    settings: Settings, factory: sessionmaker[Session], local_server: LocalServer
) -> None:
    from fastapi.testclient import TestClient

    from legation.api import create_app

    settings = _settings(settings, local_server)
    _serve(local_server, _un_small())
    with httpx.Client() as client:
        update_lists(factory, settings, client)
    admin = {"Authorization": "Bearer test-admin-key"}
    with TestClient(create_app(settings)) as api:
        viewer = {
            "X-API-Key": api.post(
                "/api/v1/keys", json={"name": "v", "role": "viewer"}, headers=admin
            ).json()["key"]
        }
        body = {
            "queries": [
                {"name": "Eric Badege", "schema": "Person", "birth_date": "1971"},
                {"name": " "},
            ]
        }
        assert api.post("/api/v1/screening/match", json=body, headers=viewer).status_code == 403
        answer = api.post("/api/v1/screening/match", json=body, headers=admin)
        assert answer.status_code == 200, answer.text
        data = answer.json()
        assert data["list_versions"] == {"un": 1} and data["algorithm"].startswith("legation")
        first, second = data["answers"]
        assert first["results"][0]["entity_id"] == "un-CDi.001" and "match" not in first["results"][0]
        assert "birth_date" in first["results"][0]["explanation"]
        assert second == {"index": 1, "error": "name is empty"}
        sid = first["screening_id"]
        bad = api.post(
            f"/api/v1/screening/{sid}/decisions",
            json={"entity_id": "un-CDi.001", "decision": "maybe"},
            headers=admin,
        )
        assert bad.status_code == 422 and "decision 'maybe'" in bad.json()["error"]["message"]
        ok = api.post(
            f"/api/v1/screening/{sid}/decisions",
            json={"entity_id": "un-CDi.001", "decision": "true_match"},
            headers=admin,
        )
        assert ok.status_code == 201
        stored = api.get(f"/api/v1/screening/{sid}", headers=viewer).json()
        assert (
            stored["decisions"][0]["decision"] == "true_match"
            and stored["query"]["name"] == "Eric Badege"
        )
        assert api.get("/api/v1/screening/lists", headers=viewer).json()[0]["entity_count"] == 60
        too_many = {"queries": [{"name": "a"}] * 101}
        assert api.post("/api/v1/screening/match", json=too_many, headers=admin).status_code == 422


def test_designated_organisations_link_to_incidents_both_ways(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    from datetime import UTC, datetime

    from legation.sanctions.service import (
        designations_of_incident,
        incidents_of_entity,
        link_incidents,
    )
    from legation.storage.tables import IncidentRow

    data = shared_path("data", "sanctions", "un_consolidated_2026-02-27.xml").read_bytes()
    entities = re.findall(rb"<ENTITY>.*?</ENTITY>", data, re.S)[:40]
    head = data[: data.index(b"<INDIVIDUALS>")]
    _serve(
        local_server,
        head
        + b"<INDIVIDUALS/><ENTITIES>"
        + b"".join(entities)
        + b"</ENTITIES></CONSOLIDATED_LIST>",
    )
    settings = _settings(settings, local_server)
    with httpx.Client() as client:
        assert update_lists(factory, settings, client)[0].status == "new"
    names = re.findall(rb"<FIRST_NAME>(.*?)</FIRST_NAME>", b"".join(entities))
    listed = names[0].decode()
    now = datetime(2026, 11, 29, tzinfo=UTC)
    with transaction(factory) as session:
        hit = IncidentRow(
            type="bombing",
            perpetrators=[listed.title()],
            organizations=[],
            created_at=now,
            updated_at=now,
        )
        miss = IncidentRow(
            type="bombing",
            perpetrators=["Local Farmers Cooperative"],
            organizations=[],
            created_at=now,
            updated_at=now,
        )
        session.add_all([hit, miss])
        session.flush()
        hit_id, miss_id = hit.id, miss.id
    assert link_incidents(factory, settings) >= 1
    assert link_incidents(factory, settings) == 0  # idempotent
    with transaction(factory) as session:
        found = designations_of_incident(session, hit_id)
        assert found and found[0]["perpetrator"] == listed.title()
        assert designations_of_incident(session, miss_id) == []
        back = incidents_of_entity(session, found[0]["entity_id"])
        assert [link["incident_id"] for link in back] == [hit_id]


def test_ofac_update_from_sdn_xml(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    from tests.test_screening import SDN_XML

    local_server.routes["/SDN.XML"] = lambda _seen: Answer(200, SDN_XML)
    settings = settings.model_copy(
        update={"screening_ofac_url": local_server.url("/SDN.XML"), "screening_sources": "ofac"}
    )
    with httpx.Client() as client:
        [report] = update_lists(factory, settings, client)
    assert (report.status, report.entity_count) == ("new", 2)
    assert report.errors == ["OFAC SDN.XML x: uid 'x' is not a number"]
