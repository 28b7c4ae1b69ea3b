"""Review fixes of the TAXII server: one visibility decision everywhere, provenance, TLP
definitions from partners, deletion rights, no existence disclosure on POST."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.settings import Settings
from legation.sharing.stix import stix_id
from legation.sharing.tlp import TLP2_IDS, marking_definition
from legation.storage import taxii as store
from legation.storage.db import transaction
from legation.storage.partners import add_partner
from legation.storage.sharing_tables import StixObjectRow
from legation.storage.taxii import grant
from tests.taxii_fixtures import OWNER_ORG, ROOT, TAXII, Setup, h, make_setup, note, post

OURS = stix_id("identity", "producer/Example Ministry")


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> Setup:
    return make_setup(factory)


@pytest.fixture
def client(settings: Settings, setup: Setup) -> Iterator[TestClient]:
    small = settings.model_copy(update={"taxii_page_size": 100})
    with TestClient(create_app(small)) as test_client:
        yield test_client


def hidden_note(n: int) -> dict[str, Any]:
    """GREEN on the outside, but its required 'content' is RED: nobody may receive it."""
    return note(n, granular_markings=[{"marking_ref": TLP2_IDS["red"], "selectors": ["content"]}])


def local(factory: sessionmaker[Session], setup: Setup, objects: list[dict[str, Any]]) -> None:
    """Objects of our own (source local), as publishing stores them."""
    with transaction(factory) as session:
        store.add_objects(
            session,
            collection_id=setup.collection,
            objects=[store.NewObject(o, "green", store.version_of(o)) for o in objects],
            source="local",
        )


def other_writer(factory: sessionmaker[Session], setup: Setup) -> str:
    with transaction(factory) as session:
        other, key = add_partner(
            session,
            name="other-writer",
            clearance="amber",
            organisation=stix_id("identity", "partner/other-writer"),
        )
        grant(session, partner_id=other.id, collection_id=setup.collection, read=True, write=True)
    return key


def test_an_object_dropped_for_a_reader_shows_up_nowhere(client: TestClient, setup: Setup) -> None:
    # visible and hidden versions interleaved in one request
    objects = []
    for n in range(12):
        objects.append(hidden_note(100 + n) if n % 3 else note(n))
    post(client, setup, objects)
    c = f"{ROOT}/collections/{setup.collection}"
    visible = {note(n)["id"] for n in range(12) if n % 3 == 0}
    hidden = {hidden_note(100 + n)["id"] for n in range(12) if n % 3}
    for key in (setup.reader_key, setup.writer_key):
        for path in ("objects", "manifest"):
            seen, params = [], {"limit": "1"}
            while True:
                answer = client.get(f"{c}/{path}/", params=params, headers=h(key))
                body = answer.json()
                got = [o["id"] for o in body.get("objects", [])]
                assert got, f"{path}: an empty page (more={body['more']})"
                assert answer.headers["X-TAXII-Date-Added-First"]
                seen += got
                if not body["more"]:
                    break
                params = {"limit": "1", "next": body["next"]}
            assert set(seen) == visible and len(seen) == 4
        for ident in hidden:
            missing = client.get(f"{c}/objects/{ident}/", headers=h(key))
            nothing = client.get(
                f"{c}/objects/note--{'0' * 8}-0000-4000-8000-{'0' * 12}/", headers=h(key)
            )
            assert missing.status_code == nothing.status_code == 404
            assert set(missing.json()) == set(nothing.json())
            assert client.get(f"{c}/objects/{ident}/versions/", headers=h(key)).status_code == 404
            listed = client.get(f"{c}/objects/", params={"match[id]": ident}, headers=h(key))
            assert listed.json() == {"more": False, "objects": []}
            assert "X-TAXII-Date-Added-First" not in listed.headers


def test_versions_lists_only_versions_the_reader_may_see(client: TestClient, setup: Setup) -> None:
    post(client, setup, [note(1), {**hidden_note(1), "modified": "2024-03-01T00:00:00.000Z"}])
    c = f"{ROOT}/collections/{setup.collection}"
    ident = note(1)["id"]
    versions = client.get(f"{c}/objects/{ident}/versions/", headers=h(setup.reader_key)).json()
    assert versions["versions"] == ["2024-01-01T00:00:00.000Z"]
    latest = client.get(f"{c}/objects/{ident}/", headers=h(setup.reader_key))
    assert latest.status_code == 404  # the latest version is the hidden one

    # As docs/sharing.md says: the default (latest) views hide the object; the version
    # released earlier at the reader's level stays reachable by version.
    def listed(path: str, version: str | None) -> list[tuple[str, str]]:
        params = {"match[id]": ident, **({"match[version]": version} if version else {})}
        body = client.get(f"{c}/{path}/", params=params, headers=h(setup.reader_key)).json()
        return [(o["id"], o.get("version") or o["modified"]) for o in body.get("objects", [])]

    earlier = [(ident, "2024-01-01T00:00:00.000Z")]
    for path in ("objects", "manifest"):
        assert listed(path, None) == listed(path, "last") == []
        assert listed(path, "first") == listed(path, "all") == earlier
        assert listed(path, "2024-03-01T00:00:00.000Z") == []


def test_tlp_definitions_are_never_taken_from_partners(client: TestClient, setup: Setup) -> None:
    fake_green = {**marking_definition("green"), "name": "TLP:GREEN (ours now)"}
    white1 = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "definition": {"tlp": "white"},
    }
    broken = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--11111111-1111-4111-8111-111111111111",
        "created": "2024-01-01T00:00:00.000Z",
    }
    statement = {
        **broken,
        "id": "marking-definition--22222222-2222-4222-8222-222222222222",
        "definition_type": "statement",
        "definition": {"statement": "Copyright partner"},
        "object_marking_refs": [TLP2_IDS["amber"]],
    }
    status = post(client, setup, [fake_green, white1, broken, statement])
    failed = {f["id"]: f["message"] for f in status["failures"]}
    assert "official TLP" in failed[fake_green["id"]] and "official TLP" in failed[white1["id"]]
    assert broken["id"] in failed
    assert [s["id"] for s in status["successes"]] == [statement["id"]]
    c = f"{ROOT}/collections/{setup.collection}/objects/"
    # the partner's own marking definition is AMBER: the GREEN reader does not get it
    reader = client.get(c, headers=h(setup.reader_key)).json()["objects"]
    assert statement["id"] not in {o["id"] for o in reader}
    writer = client.get(c, headers=h(setup.writer_key)).json()["objects"]
    assert statement["id"] in {o["id"] for o in writer}


def test_a_partner_cannot_version_what_others_produced(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    ours = note(1, created_by_ref=OURS)
    local(factory, setup, [ours])
    other_key = other_writer(factory, setup)
    post(client, setup, [note(2)], key=other_key)
    changed = "2024-05-01T00:00:00.000Z"
    status = post(
        client,
        setup,
        [
            {**ours, "modified": changed, "content": "rewritten"},
            note(2, modified=changed, content="rewritten"),
            note(3, created_by_ref=OURS),
            note(4, created_by_ref=OWNER_ORG),  # its own identity: fine
            note(5),  # none: fine
        ],
    )
    failed = {f["id"]: f for f in status["failures"]}
    assert set(failed) == {note(1)["id"], note(2)["id"], note(3)["id"]}
    assert all(f["version"] for f in failed.values())
    assert "another producer" in failed[note(2)["id"]]["message"]
    assert "created_by_ref" in failed[note(3)["id"]]["message"]
    assert status["success_count"] == 2
    got = client.get(
        f"{ROOT}/collections/{setup.collection}/objects/", headers=h(setup.reader_key)
    ).json()["objects"]
    assert "rewritten" not in {o["content"] for o in got}


def test_amber_strict_belongs_to_the_authenticated_sender(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        victim, victim_key = add_partner(
            session, name="victim", clearance="amber+strict", organisation=OURS
        )
        grant(session, partner_id=victim.id, collection_id=setup.collection, read=True, write=False)
    # The writer cannot make its strict object the organisation OURS's by naming it.
    status = post(
        client, setup, [note(1, "amber+strict", created_by_ref=OURS), note(2, "amber+strict")]
    )
    assert [f["id"] for f in status["failures"]] == [note(1)["id"]]
    url = f"{ROOT}/collections/{setup.collection}/objects/"
    assert client.get(url, headers=h(victim_key)).json()["objects"] == []
    mine = client.get(url, headers=h(setup.writer_key)).json()["objects"]
    assert [o["id"] for o in mine] == [note(2)["id"]]


def test_delete_only_what_the_partner_added(
    client: TestClient,
    setup: Setup,
    factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    local(factory, setup, [note(1, created_by_ref=OURS), marking_definition("green")])
    other_key = other_writer(factory, setup)
    post(client, setup, [note(2)], key=other_key)
    post(client, setup, [note(3)])
    c = f"{ROOT}/collections/{setup.collection}/objects"
    for ident in (note(1)["id"], note(2)["id"], TLP2_IDS["green"]):
        answer = client.delete(f"{c}/{ident}/", headers=h(setup.writer_key))
        assert answer.status_code == 404, ident
        assert client.get(f"{c}/{ident}/", headers=h(setup.writer_key)).status_code == 200
    with caplog.at_level(logging.INFO, logger="legation.api.taxii"):
        assert (
            client.delete(f"{c}/{note(3)['id']}/", headers=h(setup.writer_key)).status_code == 200
        )
    (record,) = [r for r in caplog.records if r.getMessage() == "taxii objects deleted"]
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["partner"] == "writer" and note(3)["id"] in fields["versions"][0]


def test_post_does_not_reveal_objects_the_writer_cannot_see(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    red = note(1, "red", created_by_ref=OURS)
    with transaction(factory) as session:
        store.add_objects(
            session,
            collection_id=setup.collection,
            objects=[store.NewObject(red, "red", store.version_of(red))],
            source="local",
        )
    post(client, setup, [hidden_note(2)])  # its own, but nobody may read it
    post(client, setup, [note(3)])
    status = post(client, setup, [note(1), hidden_note(2), note(4), note(3)])
    messages = {s["id"]: s["message"] for s in status["successes"]}
    # an invisible id of ours, an invisible own version and a new id read the same
    assert messages[note(1)["id"]] == messages[hidden_note(2)["id"]] == messages[note(4)["id"]]
    assert messages[note(3)["id"]] == "already present"  # visible: said so
    assert status["failures"] == []


def test_an_unknown_user_name_costs_one_password_check(
    factory: sessionmaker[Session], setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from legation.storage import partners

    calls: list[str] = []
    real = partners.check_password

    def counted(password: str, stored: str) -> bool:
        calls.append(stored)
        return real(password, stored)

    monkeypatch.setattr(partners, "check_password", counted)
    with transaction(factory) as session:
        assert partners.partner_by_login(session, username="nobody", password="x") is None
        assert partners.partner_by_login(session, username="reader", password="x") is None
    assert len(calls) == 2 and calls[0].startswith("pbkdf2_sha256$120000$")


def test_a_new_clearance_applies_to_a_cached_login(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    from legation.storage.partners import set_clearance

    post(client, setup, [note(1, "amber")])
    url = f"{ROOT}/collections/{setup.collection}/objects/"
    headers = {"Accept": TAXII}
    assert client.get(url, auth=setup.reader_login, headers=headers).json()["objects"] == []
    with transaction(factory) as session:
        set_clearance(session, name="reader", clearance="amber")
    got = client.get(url, auth=setup.reader_login, headers=headers).json()["objects"]
    assert [o["id"] for o in got] == [note(1)["id"]]


def test_taxii_errors_for_unknown_paths_methods_and_failures(
    client: TestClient, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    def taxii_error(answer: Any, status: int) -> dict[str, Any]:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == TAXII
        body: dict[str, Any] = answer.json()
        assert body["http_status"] == str(status) and body["title"] and body["description"]
        return body

    key = h(setup.reader_key)
    taxii_error(client.get(f"{ROOT}/nowhere/", headers=key), 404)
    taxii_error(client.get("/taxii2/other-root/collections/", headers=key), 404)
    assert (
        "end with '/'"
        in taxii_error(client.get(f"{ROOT}/nowhere", headers=key), 404)["description"]
    )
    # an endpoint's path without its slash is redirected to it (tests/test_taxii_slash.py)
    assert client.get(f"{ROOT}/collections", headers=key, follow_redirects=False).status_code == 307
    body = taxii_error(client.put(f"{ROOT}/collections/", headers=key), 405)
    assert "GET" in body["description"]
    taxii_error(client.patch(f"{ROOT}/collections/{setup.collection}/objects/", headers=key), 405)
    # the rest of the API keeps its own error shape
    assert "http_status" not in client.get("/api/v1/nowhere").json()

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(store, "collections_for", broken)
    failed = taxii_error(client.get(f"{ROOT}/collections/", headers=key), 500)
    assert "fire" not in failed["description"]


def test_strict_media_types_and_versions_filters(client: TestClient, setup: Setup) -> None:
    post(client, setup, [note(1)])
    c = f"{ROOT}/collections/{setup.collection}"
    for accept in (
        "application/taxii+json;version=2.10",
        "application/taxii+json;version=2.0",
        "application/taxii+json;version=2.1;q=0",
    ):
        answer = client.get("/taxii2/", headers=h(setup.reader_key, Accept=accept))
        assert answer.status_code == 406, accept
    for accept in ('application/taxii+json; version="2.1"', "application/taxii+json", "*/*"):
        answer = client.get("/taxii2/", headers=h(setup.reader_key, Accept=accept))
        assert answer.status_code == 200, accept
    wrong = client.post(
        f"{c}/objects/",
        content=b'{"objects": []}',
        headers=h(setup.writer_key, **{"Content-Type": "application/taxii+json;version=2.10"}),
    )
    assert wrong.status_code == 415
    versions = f"{c}/objects/{note(1)['id']}/versions/"
    assert client.get(
        versions, params={"match[spec_version]": "2.1"}, headers=h(setup.reader_key)
    ).json()["versions"] == ["2024-01-01T00:00:00.000Z"]
    for name in ("match[type]", "match[version]", "match[id]"):
        bad = client.get(versions, params={name: "x"}, headers=h(setup.reader_key))
        assert bad.status_code == 400 and name in bad.json()["description"]


def test_failures_name_the_version(client: TestClient, setup: Setup) -> None:
    unmodified = {**note(1, spec_version="2.0")}
    del unmodified["modified"]
    status = post(client, setup, [note(2, spec_version="2.0"), unmodified])
    assert [f["version"] for f in status["failures"]] == [
        "2024-01-01T00:00:00.000Z",
        "2024-01-01T00:00:00.000Z",
    ]


def _bombing(place: str, lat: float | None, lon: float | None) -> Any:
    """A bombing in Turkey on 1 January 2024, with nobody hurt, at ``place``."""
    from datetime import UTC, date, datetime

    from legation.storage.tables import IncidentRow

    now = datetime(2024, 1, 1, tzinfo=UTC)
    return IncidentRow(
        type="bombing",
        weapon="explosive",
        date=date(2024, 1, 1),
        place_name=place,
        country="TR",
        lat=lat,
        lon=lon,
        precision="city",
        killed=0,
        injured=0,
        target_categories=[],
        target_states=[],
        victims=[],
        perpetrators=[],
        organizations=[],
        confidence=0.9,
        created_at=now,
        updated_at=now,
    )


def _two_incidents(factory: sessionmaker[Session]) -> None:
    """Two incidents, one reported by "open-wire", one by "closed-feed"."""
    from datetime import UTC, datetime

    from legation.storage.tables import ExtractionRow, ReportRow

    now = datetime(2024, 1, 1, tzinfo=UTC)
    with transaction(factory) as session:
        for n, source in enumerate(("open-wire", "closed-feed")):
            incident = _bombing(f"Town {n}", None, None)
            report = ReportRow(
                source=source, text=f"report {n}", content_hash=f"h{n}", received_at=now
            )
            session.add_all([incident, report])
            session.flush()
            session.add(
                ExtractionRow(
                    report_id=report.id,
                    is_incident=True,
                    confidence=0.9,
                    language="en",
                    data={},
                    incident_id=incident.id,
                    created_at=now,
                )
            )


def test_per_source_default_tlp(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    from legation.partners.publish import publish_incidents

    _two_incidents(factory)
    levels = {"closed-feed": "amber"}
    with transaction(factory) as session:
        count, _added = publish_incidents(
            session, collection="incidents", producer="Example Ministry", source_tlp=levels
        )
    assert count == 2  # the collection's ceiling is AMBER+STRICT
    url = f"{ROOT}/collections/{setup.collection}/objects/"
    params = {"match[type]": "incident"}
    reader = client.get(url, params=params, headers=h(setup.reader_key)).json()["objects"]
    writer = client.get(url, params=params, headers=h(setup.writer_key)).json()["objects"]
    assert [o["name"] for o in reader] == ["bombing in Town 0, 2024-01-01"]
    assert {o["name"]: o["object_marking_refs"] for o in writer} == {
        "bombing in Town 0, 2024-01-01": [TLP2_IDS["green"]],
        "bombing in Town 1, 2024-01-01": [TLP2_IDS["amber"]],
    }
    with transaction(factory) as session, pytest.raises(Exception, match="purple"):
        publish_incidents(
            session,
            collection="incidents",
            producer="Example Ministry",
            source_tlp={"x": "purple"},
        )


def test_changed_source_tlp_remarks_what_was_published(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    """Raising a source's TLP after a publish makes the latest versions of its incident,
    report and relationships stricter (hidden from GREEN); lowering it shows them again."""
    from legation.partners.publish import publish_incidents

    _two_incidents(factory)
    url = f"{ROOT}/collections/{setup.collection}/objects/"

    def publish(levels: dict[str, str]) -> int:
        with transaction(factory) as session:
            return publish_incidents(
                session, collection="incidents", producer="Example Ministry", source_tlp=levels
            )[1]

    def names(key: str) -> dict[str, set[str]]:
        objects = client.get(url, headers=h(key)).json()["objects"]
        out: dict[str, set[str]] = {}
        for o in objects:
            if o["type"] in ("incident", "report", "relationship"):
                label = o.get("name") or o.get("relationship_type")
                out.setdefault(o["type"], set()).add(label)
        return out

    assert publish({}) > 0
    assert names(setup.reader_key) == {
        "incident": {"bombing in Town 0, 2024-01-01", "bombing in Town 1, 2024-01-01"},
        "report": {"report 0", "report 1"},
        "relationship": {"located-at"},
    }
    assert publish({}) == 0  # unchanged: nothing new
    assert publish({"closed-feed": "amber"}) > 0
    seen = names(setup.reader_key)
    assert seen["incident"] == {"bombing in Town 0, 2024-01-01"}
    assert seen["report"] == {"report 0"}
    town1 = stix_id("incident", "incident/2")
    reader = client.get(url, headers=h(setup.reader_key)).json()["objects"]
    assert not [o for o in reader if o.get("source_ref") == town1]  # no reference to it left
    writer = client.get(url, headers=h(setup.writer_key)).json()["objects"]
    marks = {o["name"]: o["object_marking_refs"] for o in writer if o["type"] == "report"}
    assert marks == {"report 0": [TLP2_IDS["green"]], "report 1": [TLP2_IDS["amber"]]}
    assert publish({"closed-feed": "amber"}) == 0
    # Lowered again: the latest versions are GREEN, later than the AMBER ones.
    assert publish({}) > 0
    seen = names(setup.reader_key)
    assert seen["incident"] == {"bombing in Town 0, 2024-01-01", "bombing in Town 1, 2024-01-01"}
    assert seen["report"] == {"report 0", "report 1"}
    assert publish({}) == 0


def test_a_policy_of_incidents_near_our_sites(factory: sessionmaker[Session]) -> None:
    """``within_km``: only incidents within that distance of one of our sites."""
    from datetime import UTC, datetime

    from legation.errors import InputError
    from legation.partners.publish import publish_incidents
    from legation.storage.tables import SiteRow

    now = datetime(2024, 1, 1, tzinfo=UTC)
    places = {"Ankara": (39.93, 32.87), "Istanbul": (41.01, 28.98), "Nowhere": (None, None)}
    with transaction(factory) as session:
        for name, (lat, lon) in places.items():
            session.add(_bombing(name, lat, lon))
        session.add(
            SiteRow(
                key="Q1",
                name="Embassy in Ankara",
                type="embassy",
                city="Ankara",
                lat=39.90,
                lon=32.86,
                created_at=now,
                updated_at=now,
            )
        )
        session.add(SiteRow(key="Q2", name="Unlocated", created_at=now, updated_at=now))
        for km in (50, 400, 0.5):
            store.create_collection(
                session,
                title=f"within {km}",
                alias=f"near{km}",
                description="",
                policy={"max_tlp": "green", "default_tlp": "green", "within_km": km},
            )
        store.create_collection(
            session, title="bad", alias="bad", description="", policy={"within_km": "far"}
        )

    def published(alias: str) -> list[str]:
        with transaction(factory) as session:
            publish_incidents(session, collection=alias, producer="Example Ministry")
            row = store.find_collection(session, ident=alias)
            bodies = session.scalars(
                select(StixObjectRow.body).where(
                    StixObjectRow.collection_id == row.id, StixObjectRow.type == "incident"
                )
            )
            return sorted(body["name"] for body in bodies)

    assert published("near50") == ["bombing in Ankara, 2024-01-01"]
    assert published("near400") == [
        "bombing in Ankara, 2024-01-01",
        "bombing in Istanbul, 2024-01-01",
    ]
    assert published("near0.5") == []
    with transaction(factory) as session, pytest.raises(InputError, match="within_km 'far'"):
        publish_incidents(session, collection="bad", producer="Example Ministry")
