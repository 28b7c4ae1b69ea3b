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
from legation.storage.screening import ListVersionRow, ScreeningRow, ScreeningSubjectRow
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
        with pytest.raises(InputError, match=r"birth_date '3024-01-01' is not YYYY"):
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

    def call(
        *args: str, stdin: str = "", ok: bool = True, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "legation", *args],
            env={**env, **(extra or {})}, input=stdin, capture_output=True, text=True,
            timeout=120, check=False,
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
    # the only version against none: everyone was added
    assert cli("lists", "diff", "un").stdout.splitlines()[-1] == "60 added, 0 removed, 0 changed"
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
        assert (
            first["results"][0]["entity_id"] == "un-CDi.001" and "match" not in first["results"][0]
        )
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
    # an FtM export that reuses the UN id for its own entry: a second link, not a collision
    entity_id = found[0]["entity_id"]
    export = {"id": entity_id, "schema": "Organization", "properties": {"name": [listed]}}
    local_server.routes["/ftm.json"] = lambda _seen: Answer(200, json.dumps(export).encode())
    settings = settings.model_copy(
        update={"screening_ftm_url": local_server.url("/ftm.json"), "screening_sources": "un,ftm"}
    )
    with httpx.Client() as client:
        assert [r.status for r in update_lists(factory, settings, client)] == ["unchanged", "new"]
    assert link_incidents(factory, settings) == 1
    with transaction(factory) as session:
        both = incidents_of_entity(session, entity_id)
        assert [(link["incident_id"], link["list"]) for link in both] == [
            (hit_id, "ftm"),
            (hit_id, "un"),
        ]
        assert [link["list"] for link in incidents_of_entity(session, entity_id, "ftm")] == ["ftm"]
        assert {link["list"] for link in designations_of_incident(session, hit_id)} >= {"un", "ftm"}


def test_migration_0005_keeps_existing_links(database_url: str) -> None:
    from datetime import UTC, datetime

    from legation.sanctions.service import incidents_of_entity
    from legation.storage.db import make_engine, session_factory
    from legation.storage.migrate import downgrade, upgrade
    from legation.storage.screening import DesignationLinkRow
    from legation.storage.tables import IncidentRow

    downgrade(database_url, "0004_web")
    engine = make_engine(database_url)
    now = datetime(2026, 11, 29, tzinfo=UTC)

    def stored_link(list_source: str, score: float) -> DesignationLinkRow:
        return DesignationLinkRow(
            incident_id=7, entity_id="un-QDe.004", caption="AL-QAIDA", list_source=list_source,
            perpetrator="Al Qaeda", score=score, created_at=now,
        )  # fmt: skip

    try:
        with transaction(session_factory(engine)) as session:  # stored under the old key
            session.add(IncidentRow(id=7, type="bombing", created_at=now, updated_at=now))
            session.flush()
            session.add(stored_link("un", 0.93))
        upgrade(database_url)
        with transaction(session_factory(engine)) as session:
            # the same id from another list for the same incident is now its own link
            session.add(stored_link("ftm", 0.9))
        with transaction(session_factory(engine)) as session:
            links = incidents_of_entity(session, "un-QDe.004")
            assert [(link["list"], link["score"]) for link in links] == [("ftm", 0.9), ("un", 0.93)]
    finally:
        engine.dispose()


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


# --- review findings (issue 5): secrets, isolation, snapshots, validation, audit keys -------

SECRET_URL = "http://reader:PW-SECRET@{host}/un.xml?token=TOKEN-SECRET"


def _secret_free(*texts: object) -> None:
    for text in texts:
        assert "SECRET" not in str(text), text


def test_list_addresses_with_tokens_are_never_shown_or_stored(
    factory: sessionmaker[Session],
    settings: Settings,
    local_server: LocalServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from legation.screening.urls import redact_url

    assert redact_url("https://u:p@h.eu:8443/a/b.csv?token=x#f") == (
        "https://h.eu:8443/a/b.csv?[redacted]"
    )
    url = SECRET_URL.format(host=local_server.base.split("://", 1)[1])
    settings = settings.model_copy(update={"screening_un_url": url, "screening_sources": "un"})
    with httpx.Client() as client:
        local_server.routes["/un.xml"] = lambda _seen: Answer(503, b"down")
        failed = update_lists(factory, settings, client)[0]
        assert failed.status == "failed" and "HTTP 503" in failed.message
        closed = settings.model_copy(
            update={"screening_un_url": "http://u:PW-SECRET@127.0.0.1:9/un.xml?token=TOKEN-SECRET"}
        )
        unreachable = update_lists(factory, closed, client)[0]
        assert unreachable.status == "failed" and "127.0.0.1:9/un.xml?[redacted]" in (
            unreachable.message
        )
        _serve(local_server, _un_small())
        stored = update_lists(factory, settings, client)[0]
    assert stored.status == "new"
    _secret_free(failed.message, unreachable.message, stored)
    _secret_free(*(repr(r.__dict__) for r in caplog.records))
    with transaction(factory) as session:
        [version] = session.scalars(select(ListVersionRow)).all()
        assert version.url.endswith("/un.xml?[redacted]") and "reader" not in version.url


def test_cli_lists_update_keeps_tokens_out_of_its_output(cli, local_server: LocalServer) -> None:  # type: ignore[no-untyped-def]
    cli("db", "upgrade")
    url = SECRET_URL.format(host=local_server.base.split("://", 1)[1])
    local_server.routes["/un.xml"] = lambda _seen: Answer(404, b"gone")
    done = cli("lists", "update", ok=False, extra={"LEGATION_SCREENING_UN_URL": url})
    assert done.returncode == 1 and "HTTP 404" in done.stderr
    _secret_free(done.stdout, done.stderr)


def test_a_parser_failure_in_one_source_leaves_the_others_updated(
    factory: sessionmaker[Session],
    settings: Settings,
    local_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import legation.sanctions.service as service

    eu = shared_path("data", "sanctions", "eu_fsf_v1_sample_999rows_2018-07-04.csv").read_bytes()
    _serve(local_server, _un_small())
    local_server.routes["/eu.csv"] = lambda _seen: Answer(200, eu.replace(b"Subject_type", b"X"))
    local_server.routes["/uk.csv"] = lambda _seen: Answer(200, b"Name 6,Group ID\n")
    settings = settings.model_copy(
        update={
            "screening_un_url": local_server.url("/un.xml"),
            "screening_eu_url": local_server.url("/eu.csv?token=T"),
            "screening_uk_url": local_server.url("/uk.csv"),
            "screening_sources": "eu,uk,un",
        }
    )

    def broken(_data: bytes) -> None:
        raise KeyError("Group Type")  # a bug in a parser, not a refused file

    monkeypatch.setattr(service, "parse_uk_conlist", broken)
    with httpx.Client() as client:
        eu_report, uk_report, un_report = update_lists(factory, settings, client)
    assert eu_report.status == "failed"
    assert eu_report.message == "eu (eu.csv): EU list: header lacks the columns Subject_type"
    assert uk_report.status == "failed"
    assert uk_report.message == "uk (uk.csv): could not be read: KeyError: 'Group Type'"
    assert (un_report.status, un_report.entity_count) == ("new", 60)
    with transaction(factory) as session:
        assert [v.source for v in session.scalars(select(ListVersionRow))] == ["un"]


def test_lists_update_reads_the_real_ofac_eu_and_uk_files(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    files = {
        f"/ofac/{n}.csv": shared_path("data", "sanctions", f"ofac_{n}.csv")
        for n in ("sdn", "alt", "add", "sdn_comments")
    }
    files["/eu.csv"] = shared_path("data", "sanctions", "eu_fsf_v1_sample_999rows_2018-07-04.csv")
    files["/uk.csv"] = shared_path("data", "sanctions", "uk_hmt_conlist_sample_77rows.csv")
    for route, path in files.items():
        body = path.read_bytes()
        local_server.routes[route] = lambda _seen, body=body: Answer(200, body)
    settings = settings.model_copy(
        update={
            "screening_ofac_url": local_server.url("/ofac/{file}.csv"),
            "screening_eu_url": local_server.url("/eu.csv"),
            "screening_uk_url": local_server.url("/uk.csv"),
            "screening_sources": "ofac,eu,uk",
        }
    )
    with httpx.Client() as client:
        reports = update_lists(factory, settings, client)
    assert [(r.source, r.status, r.entity_count) for r in reports] == [
        ("ofac", "new", 8976),
        ("eu", "new", 93),
        ("uk", "new", 41),
    ]
    with transaction(factory) as session:
        counts = {v.source: (v.entity_count, v.error_count) for v in session.scalars(
            select(ListVersionRow))}  # fmt: skip
        assert counts == {r.source: (r.entity_count, len(r.errors)) for r in reports}
        row = screen(session, Query("Ayman al-Zawahiri", "Person"), actor="t", threshold=0.7)
        assert row.results[0]["entity_id"] == "ofac-2676" and row.results[0]["list"] == "ofac"


def test_lists_update_reads_the_fcdo_uk_sanctions_list(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    body = (Path(__file__).parent / "fixtures" / "uk_sanctions_list.csv").read_bytes()
    local_server.routes["/UK-Sanctions-List.csv"] = lambda _seen: Answer(200, body)
    settings = settings.model_copy(
        update={
            "screening_uksl_url": local_server.url("/UK-Sanctions-List.csv"),
            "screening_sources": "uksl",
        }
    )
    with httpx.Client() as client:
        [report] = update_lists(factory, settings, client)
        assert (report.source, report.status, report.entity_count) == ("uksl", "new", 3)
        assert len(report.errors) == 3 and "TST0004" in report.errors[2]
        local_server.routes["/UK-Sanctions-List.csv"] = lambda _seen: Answer(200, b"x,y\n1,2\n")
        failed = update_lists(factory, settings, client)[0]
        assert failed.status == "failed" and "lacks the columns Unique ID" in failed.message
    with transaction(factory) as session:
        assert [v.source for v in session.scalars(select(ListVersionRow))] == ["uksl"]
        row = screen(session, Query("Kareem Haddaoui", "Person"), actor="t", threshold=0.7)
        assert (row.results[0]["entity_id"], row.results[0]["list"]) == ("uksl-TST0001", "uksl")


def test_damaged_index_snapshots_are_rebuilt(
    factory: sessionmaker[Session],
    settings: Settings,
    local_server: LocalServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from legation.sanctions import service

    settings = _settings(settings, local_server)
    _serve(local_server, _un_small())
    with httpx.Client() as client:
        update_lists(factory, settings, client)
    snapshots = tmp_path / "snapshots"
    with transaction(factory) as session:
        service._CACHE.clear()
        service.load_index(session, snapshots)
        [path] = snapshots.iterdir()  # no temporary file left beside it
        whole = path.read_bytes()
        for damage in (whole[: len(whole) // 2], b"", b"not a pickle at all", b"\x80\x05N."):
            path.write_bytes(damage)
            service._CACHE.clear()
            index, versions, prints = service.load_index(session, snapshots)
            assert len(index) == 60 and versions == {"un": 1} and len(prints) == 60
            assert [p.name for p in snapshots.iterdir()] == [path.name]
            assert path.read_bytes() != damage  # rebuilt and written again
            row = screen(
                session, Query("Eric Badege"), actor="t", threshold=0.7, snapshot_dir=snapshots
            )
            assert row.results[0]["entity_id"] == "un-CDi.001"
    assert sum("snapshot unreadable" in r.getMessage() for r in caplog.records) == 3


def test_query_fields_are_checked_and_named() -> None:
    assert Query("  Ali  ", "person", country="Germany").as_dict() == {
        "name": "Ali",
        "schema": "Person",
        "birth_date": None,
        "country": "de",
        "identifiers": [],
    }
    assert Query("Ali", country="sy").country == "sy"
    refused = {
        "schema 'Dog' is not supported": dict(name="Rex", schema="Dog"),
        "country 'Narnia' is neither": dict(name="Ali", country="Narnia"),
        "country 'XX' is neither": dict(name="Ali", country="XX"),
        "name is 10000000 characters long; at most 1000": dict(name="x" * 10_000_000),
        "birth_date is 40 characters long": dict(name="Ali", birth_date="1" * 40),
        "identifiers: 21 given": dict(name="Ali", identifiers=tuple("A1234" for _ in range(21))),
        "identifiers item 2 is 101 characters": dict(name="Ali", identifiers=("A1", "9" * 101)),
    }
    for message, fields in refused.items():
        with pytest.raises(InputError) as caught:
            Query(**fields)  # type: ignore[arg-type]
        assert str(caught.value).startswith(message) and len(str(caught.value)) < 200
    with pytest.raises(InputError, match="schema must be a string, not int"):
        Query.from_fields({"name": "Ali", "schema": 3})
    assert Query.from_fields({"name": "Ali", "identifiers": "A123456;B654321"}).identifiers == (
        "A123456",
        "B654321",
    )
    # the whitelist key covers every field that changes the results
    keys = {
        Query("Ali Hassan").key(),
        Query("Ali Hassan", "Person").key(),
        Query("Ali Hassan", identifiers=("A123456",)).key(),
        Query("Ali Hassan", country="SY").key(),
    }
    assert len(keys) == 4 and Query("ali  hassan").key() == Query("Ali Hassan").key()


def test_cli_refuses_bad_queries_clearly_and_the_batch_goes_on(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    cli("db", "upgrade")
    cli("lists", "update")
    unknown = cli("screen", "Eric Badege", "--schema", "Dog", ok=False)
    assert unknown.returncode == 2 and "error: schema 'Dog' is not supported" in unknown.stderr
    country = cli("screen", "Eric Badege", "--country", "Narnia", ok=False)
    assert country.returncode == 2 and "country 'Narnia'" in country.stderr
    huge = "x" * 10_000_000
    queries = tmp_path / "q.jsonl"
    lines = [
        {
            "name": "Eric Badege",
            "birth_date": "1971",
            "country": "Democratic Republic of the Congo",
        },
        {"name": huge},
        {"name": "Eric Badege", "schema": "Dog"},
        {"name": "Nobody Atall Zzyzx"},
        {"name": "Eric Badege", "schema": "Person"},
    ]
    queries.write_text("\n".join(json.dumps(x) for x in lines) + "\n", "utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n", "utf-8")
    # a bad input file leaves an existing output untouched
    assert cli("screen", "--input", str(tmp_path / "none.jsonl"), "--output", str(out), ok=False)
    assert cli("screen", "--input", str(tmp_path / "q.txt"), "--output", str(out), ok=False)
    assert out.read_text("utf-8") == "previous results\n"
    done = cli("screen", "--input", str(queries), "--output", str(out))
    assert "2 lines refused" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []
    rows = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    by_line: dict[int, list[dict[str, object]]] = {}
    for row in rows:
        by_line.setdefault(int(row["line"]), []).append(row)
    assert sorted(by_line) == [1, 2, 3, 4, 5]  # every input line has its row
    assert by_line[1][0]["entity_id"] == "un-CDi.001"
    assert by_line[2] == [
        {"line": 2, "error": "line 2: name is 10000000 characters long; at most 1000 are accepted"}
    ]
    assert str(by_line[3][0]["error"]).startswith("line 3: schema 'Dog' is not supported")
    assert by_line[4] == [{"line": 4, "query": "Nobody Atall Zzyzx", "screening_id": 2}]
    assert by_line[5][0]["entity_id"] == "un-CDi.001"
    # every screening the output names was committed (audit rows written before the output)
    ids = {int(r["screening_id"]) for r in rows if "screening_id" in r}  # type: ignore[call-overload]
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'legation.db'}")
    with engine.connect() as connection:
        stored = set(connection.scalars(select(ScreeningRow.id)))
    engine.dispose()
    assert ids == {1, 2, 3} and ids <= stored
    table = tmp_path / "q.csv"
    table.write_text(f"name,schema\n{huge},Person\nEric Badege,Person\n", "utf-8")
    rows_csv = cli("screen", "--input", str(table), "--format", "csv").stdout.splitlines()
    assert (
        rows_csv[1]
        == "2,,,,,,,,,line 2: name is 10000000 characters long; at most 1000 are accepted"
    )
    assert rows_csv[2].startswith("3,Eric Badege,un-CDi.001,")


def test_api_checks_each_query_on_its_own_and_needs_a_key(
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
        body = {
            "queries": [
                {"name": "x" * 10_000_000},
                {"name": "Eric Badege", "schema": "Dog"},
                {"name": "Eric Badege", "country": "Narnia" * 50},
                {"name": ["not", "a", "string"]},
                {"name": "Nobody Atall Zzyzx"},
                {"name": "Eric Badege", "schema": "Person", "country": "CD", "birth_date": 1971},
            ]
        }
        answer = api.post("/api/v1/screening/match", json=body, headers=admin)
        assert answer.status_code == 200, answer.text[:300]
        first, second, third, fourth, fifth, sixth = answer.json()["answers"]
        assert first == {
            "index": 0,
            "error": "name is 10000000 characters long; at most 1000 are accepted",
        }
        assert second["error"].startswith("schema 'Dog' is not supported; use one of Person")
        assert third["error"] == "country is 300 characters long; at most 100 are accepted"
        assert fourth == {"index": 3, "error": "name must be a string, not list"}
        assert fifth["results"] == [] and fifth["screening_id"]
        assert sixth["results"][0]["entity_id"] == "un-CDi.001"
        sid = sixth["screening_id"]
        viewer = {
            "X-API-Key": api.post(
                "/api/v1/keys", json={"name": "v", "role": "viewer"}, headers=admin
            ).json()["key"]
        }
        decision = {"entity_id": "un-CDi.001", "decision": "true_match"}
        assert (
            api.post(
                f"/api/v1/screening/{sid}/decisions", json=decision, headers=viewer
            ).status_code
            == 403
        )
        long_reason = {**decision, "decision": "whitelisted", "reason": "r" * 2001}
        refused = api.post(f"/api/v1/screening/{sid}/decisions", json=long_reason, headers=admin)
        assert refused.status_code == 422
        assert refused.json()["error"]["message"] == (
            "reason is 2001 characters long; at most 2000 are accepted"
        )
        links = api.get(
            "/api/v1/screening/designations/un-CDi.001/incidents?list=un", headers=viewer
        )
        assert links.status_code == 200 and links.json() == []
        calls = [
            ("get", "/api/v1/screening/lists"),
            ("post", "/api/v1/screening/match"),
            ("get", f"/api/v1/screening/{sid}"),
            ("post", f"/api/v1/screening/{sid}/decisions"),
            ("get", "/api/v1/screening/designations/un-CDi.001/incidents"),
            ("get", "/api/v1/screening/incidents/1/designations"),
        ]
        for method, path in calls:
            kwargs = {"json": body} if method == "post" else {}
            assert getattr(api, method)(path, **kwargs).status_code == 401, path


def test_lists_sharing_entity_ids_keep_their_own_fingerprints_decisions_and_alerts(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    from legation.sanctions.service import add_subject

    long_id = "x" * 200  # the longest id stored; the alert key built on it is cut
    ftm = "\n".join(
        json.dumps(e)
        for e in (
            {"id": "un-CDi.001", "schema": "Person", "properties": {"name": ["Eric Badege"]}},
            {"id": long_id, "schema": "Person", "properties": {"name": ["Omar Examplemann"]}},
            {"id": long_id, "schema": "Person", "properties": {"name": ["Omar Examplemann"]}},
            {"id": "y" * 201, "schema": "Person", "properties": {"name": ["Too Long"]}},
        )
    ).encode()
    _serve(local_server, _un_small())
    local_server.routes["/ftm.json"] = lambda _seen: Answer(200, ftm)
    settings = settings.model_copy(
        update={
            "screening_un_url": local_server.url("/un.xml"),
            "screening_ftm_url": local_server.url("/ftm.json"),
            "screening_sources": "un,ftm",
        }
    )
    with httpx.Client() as client:
        _un_report, ftm_report = update_lists(factory, settings, client)
    assert ftm_report.entity_count == 2 and ftm_report.errors == [
        f"ftm: duplicate entity id {long_id} skipped",
        f"ftm: entity id '{'y' * 78}… is longer than 200 characters; skipped",
    ]
    with transaction(factory) as session:
        version = session.scalars(
            select(ListVersionRow).where(ListVersionRow.source == "ftm")
        ).one()
        assert (version.entity_count, version.error_count) == (2, 2)
        row = screen(session, Query("Eric Badege", "Person"), actor="ann", threshold=0.7)
        by_list = {r["list"]: r for r in row.results if r["entity_id"] == "un-CDi.001"}
        assert set(by_list) == {"un", "ftm"}
        assert by_list["un"]["fingerprint"] != by_list["ftm"]["fingerprint"]
        with pytest.raises(InputError, match="on several lists"):
            decide(session, screening_id=row.id, entity_id="un-CDi.001",
                   decision="whitelisted", reason="checked", user="ann")  # fmt: skip
        decide(session, screening_id=row.id, entity_id="un-CDi.001", list_source="ftm",
               decision="whitelisted", reason="checked", user="ann")  # fmt: skip
        again = screen(session, Query("Eric Badege", "Person"), actor="ann", threshold=0.7)
        suppressed = {r["list"]: r["suppressed"] for r in again.results}
        assert suppressed == {"un": False, "ftm": True}
        add_subject(session, name="Omar Examplemann", kind="partner")
        # stored before countries were checked (the old code kept any text)
        session.add(ScreeningSubjectRow(kind="payee", schema="Person", name="Omar Examplemann",
                                        country="xx", created_at=row.created_at))  # fmt: skip
    problems: list[str] = []
    alerts = rescreen_subjects(factory, settings, errors=problems)
    assert [a.title for a in alerts] == [
        "Sanctions hit: partner Omar Examplemann ~ Omar Examplemann"
    ]
    assert len(problems) == 1 and problems[0].endswith(
        "(payee): country 'xx' is neither an ISO 3166-1 alpha-2 code nor a country name"
    )
    assert rescreen_subjects(factory, settings) == []  # the long key is found again: no repeat


def test_an_unreadable_csv_line_is_that_lines_error(tmp_path: Path) -> None:
    import csv

    from legation.cli_screening import _read_queries

    table = tmp_path / "q.csv"
    table.write_text("name,schema\nAli,Person\n" + "x" * 2000 + ",Person\nOmar,Person\n", "utf-8")
    before = csv.field_size_limit(1000)
    try:
        read = list(_read_queries(table))
    finally:
        csv.field_size_limit(before)
    assert read == [
        (2, {"name": "Ali", "schema": "Person"}, ""),
        (3, None, "line 3: unreadable CSV (field larger than field limit (1000))"),
        (4, {"name": "Omar", "schema": "Person"}, ""),
    ]


def _ofac_head(lines: int) -> dict[str, bytes]:
    """The real OFAC CSV set cut to the entries of the first ``lines`` sdn.csv lines."""
    sdn = b"".join(
        shared_path("data", "sanctions", "ofac_sdn.csv").read_bytes().splitlines(True)[:lines]
    )
    files = {"sdn": sdn}
    for name in ("alt", "add", "sdn_comments"):
        files[name] = shared_path("data", "sanctions", f"ofac_{name}.csv").read_bytes()
    return files


def test_a_cut_or_shrunken_download_never_replaces_the_current_version(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    files = _ofac_head(400)
    for name in files:
        local_server.routes[f"/ofac/{name}.csv"] = lambda _seen, name=name: Answer(200, files[name])
    settings = settings.model_copy(
        update={
            "screening_ofac_url": local_server.url("/ofac/{file}.csv"),
            "screening_sources": "ofac",
        }
    )
    with httpx.Client() as client:
        [first] = update_lists(factory, settings, client)
        assert (first.status, first.entity_count) == ("new", 400)
        # the download stopped inside a quoted Remarks field of line 301
        whole = files["sdn"]
        cut = whole.index(b'"', len(b"".join(whole.splitlines(True)[:300])) + 60) + 3
        files["sdn"] = whole[:cut]
        [broken] = update_lists(factory, settings, client)
        assert broken.status == "failed"
        assert broken.message == (
            "ofac (sdn.csv, alt.csv, add.csv, sdn_comments.csv): sdn.csv: the file ends inside a "
            "quoted field (line 301); was the download cut short?"
        )
        # stopped after a field of line 301: no final newline, the row short of columns
        files["sdn"] = whole[: whole.index(b",", len(b"".join(whole.splitlines(True)[:300])))]
        [broken] = update_lists(factory, settings, client)
        assert "ends in the middle of line 301 (1 of 12 columns" in broken.message
        # cut at the end of a line: it reads, but a third of the entries would be gone
        files["sdn"] = b"".join(whole.splitlines(True)[:260])
        [refused] = update_lists(factory, settings, client)
        assert refused.status == "failed" and refused.message.endswith(
            "the new file would remove 140 of the 400 entries of version 1 (35%), more than "
            "the 20% allowed (LEGATION_SCREENING_MAX_REMOVED_SHARE); not stored. Check the "
            "download; if the list really shrank, update with --force"
        )
        with transaction(factory) as session:
            assert [v.id for v in session.scalars(select(ListVersionRow))] == [1]
        # a smaller share, a higher setting or --force: stored
        files["sdn"] = b"".join(whole.splitlines(True)[:330])
        assert update_lists(factory, settings, client)[0].status == "new"
        files["sdn"] = b"".join(whole.splitlines(True)[:200])
        [forced] = update_lists(factory, settings, client, force=True)
        assert (forced.status, forced.entity_count) == ("new", 200)
        files["sdn"] = b"".join(whole.splitlines(True)[:100])
        lenient = settings.model_copy(update={"screening_max_removed_share": 0.5})
        assert update_lists(factory, lenient, client)[0].status == "new"


def test_cli_lists_update_force(cli, local_server: LocalServer) -> None:  # type: ignore[no-untyped-def]
    cli("db", "upgrade")
    assert "new, version 1, 60 entities" in cli("lists", "update", "--no-rescreen").stdout
    data = _un_small()
    people = PERSON.findall(data)
    _serve(local_server, data.replace(b"".join(people[30:]), b""))
    refused = cli("lists", "update", "--no-rescreen", ok=False)
    assert refused.returncode == 1
    assert "would remove 30 of the 60 entries of version 1 (50%)" in refused.stderr
    assert "current version kept" in refused.stderr
    forced = cli("lists", "update", "--no-rescreen", "--force")
    assert "new, version 2, 30 entities" in forced.stdout


def test_an_unknown_source_is_refused_before_any_update(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    _serve(local_server, _un_small())
    settings = _settings(settings, local_server)
    with httpx.Client() as client, pytest.raises(InputError) as refused:
        update_lists(factory, settings, client, sources=["un", "bogus"])
    assert str(refused.value) == (
        "unknown list source 'bogus'; known: un, ofac, eu, uk, uksl, ftm; nothing was updated"
    )
    assert local_server.seen == []  # not even downloaded
    with transaction(factory) as session:
        assert session.scalars(select(ListVersionRow)).all() == []


def test_cli_refuses_a_threshold_outside_0_to_1_and_an_unknown_source(cli) -> None:  # type: ignore[no-untyped-def]
    cli("db", "upgrade")
    bogus = cli("lists", "update", "--source", "un", "--source", "bogus", ok=False)
    assert bogus.returncode == 1 and "unknown list source 'bogus'" in bogus.stderr
    assert "nothing was updated" in bogus.stderr and bogus.stdout == ""
    cli("lists", "update", "--no-rescreen")
    for bad in ("7", "-0.1"):
        refused = cli("screen", "Eric Badege", "--threshold", bad, ok=False)
        assert refused.returncode == 2 and "--threshold" in refused.stderr
    assert "un-CDi.001" in cli("screen", "Eric Badege", "--threshold", "0.9").stdout


def test_cli_refuses_a_limit_outside_1_to_100(cli) -> None:  # type: ignore[no-untyped-def]
    cli("db", "upgrade")
    cli("lists", "update", "--no-rescreen")
    for bad in ("0", "-1", "101"):
        refused = cli("screen", "Eric Badege", "--limit", bad, ok=False)
        assert refused.returncode == 2 and "--limit" in refused.stderr
        assert "no match" not in refused.stderr and refused.stdout == ""
    assert "un-CDi.001" in cli("screen", "Eric Badege", "--limit", "1").stdout
    for empty in ("!!!", "Sheikh", "al bin ibn"):
        refused = cli("screen", empty, ok=False)
        assert refused.returncode == 2 and "has nothing to screen" in refused.stderr
        assert "no match" not in refused.stderr


def test_cli_on_an_unmigrated_database_says_to_upgrade(cli) -> None:  # type: ignore[no-untyped-def]
    for args in (("lists", "versions"), ("lists", "update", "--no-rescreen")):
        refused = cli(*args, ok=False)
        assert refused.returncode == 1, args
        assert "run `legation db upgrade` first" in refused.stderr, args
        assert "Traceback" not in refused.stderr


def test_cli_links_of_an_unknown_entity_or_incident_are_not_found(cli) -> None:  # type: ignore[no-untyped-def]
    cli("db", "upgrade")
    cli("lists", "update", "--no-rescreen")
    unknown = cli("lists", "links", "--entity", "nonexist", ok=False)
    assert unknown.returncode == 1 and "entity 'nonexist' not found" in unknown.stderr
    missing = cli("lists", "links", "--incident", "9999", ok=False)
    assert missing.returncode == 1 and "incident 9999 not found" in missing.stderr
    listed = cli("lists", "links", "--entity", "un-CDi.001")  # on the list, never linked
    assert listed.stdout == "" and "no incident linked" in listed.stderr


def test_incident_links_are_strict_follow_delistings_and_ignore_update_order(
    factory: sessionmaker[Session], settings: Settings, local_server: LocalServer
) -> None:
    from datetime import UTC, datetime

    from legation.sanctions.service import designations_of_incident, link_incidents
    from legation.storage.screening import DesignationLinkRow
    from legation.storage.tables import IncidentRow

    def org(key: str, name: str, *aliases: str) -> dict[str, object]:
        return {"id": key, "schema": "Organization",
                "properties": {"name": [name], "alias": list(aliases)}}  # fmt: skip

    listed = [
        org("h", "HIZBALLAH"),
        org("k", "KATA'IB HIZBALLAH"),
        org("t", "TALIBAN"),
        org("b", "BOKO HARAM", "NIGERIAN TALIBAN"),
        org("i", "ISLAMIC STATE OF IRAQ AND THE LEVANT", "ISIS"),
        org("e", "ISIS-EGYPT"),
        org("q", "HAQQANI NETWORK"),
    ]
    files = {"body": b""}
    local_server.routes["/ftm.json"] = lambda _seen: Answer(200, files["body"])
    settings = settings.model_copy(
        update={"screening_ftm_url": local_server.url("/ftm.json"), "screening_sources": "ftm"}
    )

    def publish(entries: list[dict[str, object]]) -> None:
        files["body"] = "".join(json.dumps(e) + "\n" for e in entries).encode()
        with httpx.Client() as client:
            assert update_lists(factory, settings, client, force=True)[0].status == "new"

    def links() -> set[tuple[str, str]]:
        with transaction(factory) as session:
            return {
                (names[r.incident_id], r.entity_id)
                for r in session.scalars(select(DesignationLinkRow))
            }

    publish(listed)
    now = datetime(2026, 11, 29, tzinfo=UTC)
    groups = ["Hizballah", "Taliban", "ISIS", "Haqqani", "Local Farmers Cooperative"]
    with transaction(factory) as session:
        rows = [
            IncidentRow(type="bombing", perpetrators=[g], organizations=[], created_at=now,
                        updated_at=now)
            for g in groups
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        names = {r.id: g for r, g in zip(rows, groups, strict=True)}
    assert link_incidents(factory, settings) == 4
    # one-word names link to that organisation only, not to the ones that contain the word
    assert links() == {("Hizballah", "h"), ("Taliban", "t"), ("ISIS", "i"), ("Haqqani", "q")}
    # TALIBAN delisted: its link goes and the incident shows no current designation
    publish([e for e in listed if e["id"] != "t"])
    assert link_incidents(factory, settings) == 0
    assert links() == {("Hizballah", "h"), ("ISIS", "i"), ("Haqqani", "q")}
    taliban = next(i for i, g in names.items() if g == "Taliban")
    with transaction(factory) as session:
        assert designations_of_incident(session, taliban) == []
    # relisted, then linked again; the same links as linking from nothing
    publish(listed)
    assert link_incidents(factory, settings) == 1
    relinked = links()
    with transaction(factory) as session:
        for row in session.scalars(select(DesignationLinkRow)):
            session.delete(row)
    assert link_incidents(factory, settings) == 4
    assert links() == relinked


def test_staff_are_screened_under_their_current_names(factory: sessionmaker[Session]) -> None:
    from legation.domain.clock import utcnow
    from legation.sanctions.service import _sync_staff

    with transaction(factory) as session:
        stays = StaffRow(name="Ann Example", role="driver")
        leaves = StaffRow(name="Bob Example", role="guard")
        by_hand = ScreeningSubjectRow(
            kind="staff", schema="Person", name="Carl Contractor", created_at=utcnow()
        )
        session.add_all([stays, leaves, by_hand])
        session.flush()
        _sync_staff(session)
        stays.name = "Ann Married-Name"
        session.delete(leaves)
        session.flush()
        _sync_staff(session)
        rows = session.scalars(
            select(ScreeningSubjectRow).where(ScreeningSubjectRow.kind == "staff")
        ).all()
        assert sorted((r.name, r.reference or "") for r in rows) == [
            ("Ann Married-Name", f"staff:{stays.id}"),
            ("Carl Contractor", ""),  # added by hand, not from the registry: kept
        ]
