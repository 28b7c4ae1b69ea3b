"""The TAXII 2.1 server on our storage: every endpoint, errors, paging, filters, TLP per partner."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stix2validator import ValidationOptions, validate_instance

from legation.api import create_app
from legation.partners.publish import publish_incidents
from legation.settings import Settings
from legation.sharing.stix import LEGATION_EXTENSION, stix_id
from legation.sharing.tlp import TLP2_IDS
from legation.storage.db import transaction
from legation.storage.sharing_tables import CollectionRow
from legation.storage.tables import AlertRow, IncidentRow, SiteRow
from tests.taxii_fixtures import OWNER_ORG, ROOT, TAXII, Setup, h, make_setup, note, post


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> Setup:
    return make_setup(factory)


@pytest.fixture
def client(settings: Settings, setup: Setup) -> Iterator[TestClient]:
    small = settings.model_copy(
        update={"taxii_page_size": 100, "taxii_max_content_length": 200_000}
    )
    with TestClient(create_app(small)) as test_client:
        yield test_client


def assert_taxii_error(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/taxii+json")
    body: dict[str, Any] = answer.json()
    assert body["http_status"] == str(status) and body["title"]
    return body


def test_every_endpoint_needs_credentials(client: TestClient, setup: Setup) -> None:
    c = f"{ROOT}/collections/{setup.collection}"
    paths = [
        "/taxii2/",
        f"{ROOT}/",
        f"{ROOT}/status/x/",
        f"{ROOT}/collections/",
        f"{c}/",
        f"{c}/manifest/",
        f"{c}/objects/",
        f"{c}/objects/note--x/",
        f"{c}/objects/note--x/versions/",
    ]
    for path in paths:
        assert_taxii_error(client.get(path, headers={"Accept": TAXII}), 401)
        assert_taxii_error(client.get(path, headers=h("wrong")), 401)
    assert_taxii_error(
        client.post(f"{c}/objects/", content=b"{}", headers={"Content-Type": TAXII}), 401
    )
    assert_taxii_error(client.delete(f"{c}/objects/note--x/"), 401)
    assert_taxii_error(client.get("/taxii2/", auth=("reader", "wrong")), 401)


def test_an_api_key_in_any_authorization_scheme_for_keys(client: TestClient, setup: Setup) -> None:
    """Bearer (OpenCTI), Token (taxii2-client's TokenAuth), any case, and X-API-Key."""
    from taxii2client.common import TokenAuth

    sent = TokenAuth(setup.reader_key)(requests.Request("GET", "http://x/").prepare())
    schemes = [sent.headers["Authorization"], f"bearer {setup.reader_key}"]
    schemes += [f"TOKEN {setup.reader_key}", f"Bearer {setup.reader_key}"]
    for value in schemes:
        answer = client.get("/taxii2/", headers={"Accept": TAXII, "Authorization": value})
        assert answer.status_code == 200, value
    for value in (f"Token {setup.reader_key}x", f"Tokens {setup.reader_key}", "Token "):
        answer = client.get("/taxii2/", headers={"Accept": TAXII, "Authorization": value})
        assert_taxii_error(answer, 401)
    answer = client.get("/taxii2/", headers={"Accept": TAXII, "X-API-Key": setup.reader_key})
    assert answer.status_code == 200


def test_discovery_root_and_collections(client: TestClient, setup: Setup) -> None:
    discovery = client.get("/taxii2/", auth=setup.reader_login, headers={"Accept": TAXII})
    assert discovery.status_code == 200 and discovery.headers["content-type"] == TAXII
    assert discovery.json()["api_roots"] == ["http://testserver/taxii2/legation/"]
    root = client.get(f"{ROOT}/", headers=h(setup.reader_key)).json()
    assert root["versions"] == [TAXII] and root["max_content_length"] == 200_000
    listed = client.get(f"{ROOT}/collections/", headers=h(setup.reader_key)).json()["collections"]
    assert [(c["id"], c["can_read"], c["can_write"]) for c in listed] == [
        (setup.collection, True, False)
    ]
    by_alias = client.get(f"{ROOT}/collections/incidents/", headers=h(setup.writer_key)).json()
    assert by_alias["can_write"] is True and by_alias["media_types"] == [
        "application/stix+json;version=2.1"
    ]
    # a collection the partner has no grant on does not exist for it
    assert_taxii_error(
        client.get(f"{ROOT}/collections/{setup.hidden}/", headers=h(setup.reader_key)), 404
    )


def test_negotiation_and_body_errors(client: TestClient, setup: Setup) -> None:
    objects = f"{ROOT}/collections/{setup.collection}/objects/"
    assert_taxii_error(
        client.get("/taxii2/", headers=h(setup.reader_key, Accept="application/json")), 406
    )
    assert_taxii_error(
        client.post(
            objects,
            content=b"{}",
            headers=h(setup.writer_key, **{"Content-Type": "application/json"}),
        ),
        415,
    )
    big = json.dumps({"objects": [note(i, content="x" * 1000) for i in range(300)]})
    body = assert_taxii_error(
        client.post(objects, content=big, headers=h(setup.writer_key, **{"Content-Type": TAXII})),
        413,
    )
    assert "200000" in body["description"]
    bad = assert_taxii_error(
        client.post(
            objects, content=b"{not json", headers=h(setup.writer_key, **{"Content-Type": TAXII})
        ),
        400,
    )
    assert "not JSON" in bad["description"]
    nan = assert_taxii_error(
        client.post(
            objects,
            content=b'{"objects": [{"x": NaN}]}',
            headers=h(setup.writer_key, **{"Content-Type": TAXII}),
        ),
        400,
    )
    assert "NaN is not a JSON value" in nan["description"]
    assert_taxii_error(
        client.post(
            objects, content=b"[1]", headers=h(setup.writer_key, **{"Content-Type": TAXII})
        ),
        400,
    )
    # the reader has no write right
    assert_taxii_error(
        client.post(
            objects,
            content=b'{"objects":[]}',
            headers=h(setup.reader_key, **{"Content-Type": TAXII}),
        ),
        403,
    )
    assert client.get(objects, headers=h(setup.reader_key)).json()["objects"] == []


def test_invalid_objects_are_reported_and_valid_ones_kept(client: TestClient, setup: Setup) -> None:
    objects = [
        note(1),
        {"type": "note", "id": "note--bad", "spec_version": "2.1"},
        note(2, spec_version="2.0"),
        "not an object",
        note(3, tlp="red"),
        note(4, tlp=None),
    ]
    status = post(client, setup, objects)
    assert status["status"] == "complete" and status["total_count"] == 6
    assert status["success_count"] == 2 and status["failure_count"] == 4
    failures = {f["id"]: f["message"] for f in status["failures"]}
    assert "note--bad" in failures and "objects[3]" in failures
    assert any("spec_version" in m for m in failures.values())
    assert any("TLP:RED" in m for m in failures.values())
    again = client.get(f"{ROOT}/status/{status['id']}/", headers=h(setup.writer_key)).json()
    assert again == status
    assert_taxii_error(
        client.get(f"{ROOT}/status/{status['id']}/", headers=h(setup.reader_key)), 404
    )
    stored = client.get(
        f"{ROOT}/collections/{setup.collection}/objects/", headers=h(setup.writer_key)
    ).json()
    assert sorted(o["content"] for o in stored["objects"]) == ["note 1", "note 4"]
    unmarked = next(o for o in stored["objects"] if o["content"] == "note 4")
    assert unmarked["object_marking_refs"] == [TLP2_IDS["green"]]  # the collection's default
    # posting the same again stores nothing new
    repeat = post(client, setup, [note(1)])
    assert repeat["successes"][0]["message"] == "already present"


def test_paging_to_the_end_with_next_and_with_added_after(client: TestClient, setup: Setup) -> None:
    post(client, setup, [note(i) for i in range(250)])
    url = f"{ROOT}/collections/{setup.collection}/objects/"
    seen, params, pages = [], {"limit": "1000"}, 0
    while True:
        answer = client.get(url, params=params, headers=h(setup.reader_key))
        body = answer.json()
        pages += 1
        seen += [o["id"] for o in body["objects"]]
        assert (
            answer.headers["X-TAXII-Date-Added-First"] <= answer.headers["X-TAXII-Date-Added-Last"]
        )
        if not body["more"]:
            break
        params = {"limit": "1000", "next": body["next"]}
    assert pages == 3 and len(seen) == len(set(seen)) == 250  # limit capped at the server's 100
    # all 250 came in one request; added_after from a page's last date_added still skips nothing
    first = client.get(url, params={"limit": "60"}, headers=h(setup.reader_key))
    rest = client.get(
        url,
        params={"added_after": first.headers["X-TAXII-Date-Added-Last"], "limit": "100"},
        headers=h(setup.reader_key),
    )
    rest2 = client.get(
        url,
        params={"added_after": rest.headers["X-TAXII-Date-Added-Last"], "limit": "100"},
        headers=h(setup.reader_key),
    )
    ids = [o["id"] for b in (first, rest, rest2) for o in b.json()["objects"]]
    assert len(ids) == len(set(ids)) == 250
    manifest = client.get(
        f"{ROOT}/collections/{setup.collection}/manifest/",
        params={"limit": "5"},
        headers=h(setup.reader_key),
    ).json()
    assert manifest["more"] is True and set(manifest["objects"][0]) == {
        "id",
        "date_added",
        "version",
        "media_type",
    }


def test_cursor_and_limit_errors(client: TestClient, setup: Setup) -> None:
    post(client, setup, [note(i) for i in range(5)])
    url = f"{ROOT}/collections/{setup.collection}/objects/"
    token = client.get(url, params={"limit": "2"}, headers=h(setup.reader_key)).json()["next"]
    assert (
        "not valid"
        in assert_taxii_error(
            client.get(url, params={"next": "bogus"}, headers=h(setup.reader_key)), 400
        )["description"]
    )
    changed = client.get(
        url, params={"next": token, "match[type]": "indicator"}, headers=h(setup.reader_key)
    )
    assert "other filters" in assert_taxii_error(changed, 400)["description"]
    assert_taxii_error(client.get(url, params={"next": token}, headers=h(setup.writer_key)), 400)
    for limit in ("0", "-1", "ten"):
        assert_taxii_error(
            client.get(url, params={"limit": limit}, headers=h(setup.reader_key)), 400
        )
    assert_taxii_error(
        client.get(url, params={"added_after": "yesterday"}, headers=h(setup.reader_key)), 400
    )
    ok = client.get(url, params={"next": token, "limit": "2"}, headers=h(setup.reader_key)).json()
    assert len(ok["objects"]) == 2


def test_filters_versions_and_delete(client: TestClient, setup: Setup) -> None:
    post(client, setup, [note(1), note(2), note(1, modified="2024-02-01T00:00:00.000Z")])
    c = f"{ROOT}/collections/{setup.collection}"
    one = note(1)["id"]

    def ids(path: str, **params: str) -> list[str]:
        return [
            o.get("modified", "")
            for o in client.get(path, params=params, headers=h(setup.reader_key))
            .json()
            .get("objects", [])
        ]

    assert len(ids(f"{c}/objects/")) == 2  # latest versions only
    assert len(ids(f"{c}/objects/", **{"match[version]": "all"})) == 3
    assert ids(f"{c}/objects/", **{"match[id]": one}) == ["2024-02-01T00:00:00.000Z"]
    assert ids(f"{c}/objects/{one}/", **{"match[version]": "first"}) == ["2024-01-01T00:00:00.000Z"]
    assert ids(f"{c}/objects/{one}/", **{"match[version]": "2024-01-01T00:00:00Z"}) == [
        "2024-01-01T00:00:00.000Z"
    ]
    assert ids(f"{c}/objects/", **{"match[type]": "indicator,report"}) == []
    assert ids(f"{c}/objects/", **{"match[spec_version]": "2.0"}) == []
    versions = client.get(f"{c}/objects/{one}/versions/", headers=h(setup.reader_key)).json()
    assert versions["versions"] == ["2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"]
    assert_taxii_error(client.get(f"{c}/objects/note--missing/", headers=h(setup.reader_key)), 404)
    assert_taxii_error(client.delete(f"{c}/objects/{one}/", headers=h(setup.reader_key)), 403)
    gone = client.delete(
        f"{c}/objects/{one}/",
        params={"match[version]": "2024-02-01T00:00:00.000Z"},
        headers=h(setup.writer_key),
    )
    assert gone.status_code == 200
    assert ids(f"{c}/objects/{one}/") == ["2024-01-01T00:00:00.000Z"]  # the earlier is latest again
    assert client.delete(f"{c}/objects/{one}/", headers=h(setup.writer_key)).status_code == 200
    assert_taxii_error(client.get(f"{c}/objects/{one}/", headers=h(setup.reader_key)), 404)


def test_a_granular_marking_into_a_list_item(client: TestClient, setup: Setup) -> None:
    """A valid selector into a key of a list item is taken (stix2 3.0.2 refuses it); a
    partner below its level gets the object without the whole list, one cleared for it
    gets it whole."""
    refs = [
        {"source_name": "s", "url": "https://example.org/secret"},
        {"source_name": "t", "description": "open"},
    ]
    marked = note(
        11,
        external_references=refs,
        granular_markings=[
            {"marking_ref": TLP2_IDS["amber"], "selectors": ["external_references.[0].url"]}
        ],
    )
    required = note(
        12,
        granular_markings=[{"marking_ref": TLP2_IDS["amber"], "selectors": ["object_refs.[0]"]}],
    )
    status = post(client, setup, [marked, required])
    assert status["success_count"] == 2, status
    url = f"{ROOT}/collections/{setup.collection}/objects/"
    reader = client.get(url, headers=h(setup.reader_key)).json()["objects"]
    assert [o["content"] for o in reader] == ["note 11"]  # note 12's object_refs is required
    assert "external_references" not in reader[0] and "granular_markings" not in reader[0]
    assert "secret" not in json.dumps(reader)
    writer = client.get(url, headers=h(setup.writer_key)).json()["objects"]
    assert {o["content"]: o.get("external_references") for o in writer} == {
        "note 11": refs,
        "note 12": None,
    }


def test_the_same_version_twice_in_one_envelope(client: TestClient, setup: Setup) -> None:
    """Stored and counted once; the later copy is a failure naming the duplicate."""
    later = note(1, modified="2024-02-01T00:00:00.000Z")
    status = post(client, setup, [note(1), note(2), note(1), later, note(1)])
    assert (status["total_count"], status["success_count"], status["failure_count"]) == (5, 3, 2)
    assert [(s["id"], s["version"], s["message"]) for s in status["successes"]] == [
        (note(1)["id"], "2024-01-01T00:00:00.000000Z", "added"),
        (note(2)["id"], "2024-01-01T00:00:00.000000Z", "added"),
        (note(1)["id"], "2024-02-01T00:00:00.000000Z", "added"),
    ]
    assert [(f["id"], f["version"]) for f in status["failures"]] == [
        (note(1)["id"], "2024-01-01T00:00:00.000000Z")
    ] * 2
    assert all(f["message"].startswith("duplicate in this envelope") for f in status["failures"])
    c = f"{ROOT}/collections/{setup.collection}"
    versions = client.get(f"{c}/objects/{note(1)['id']}/versions/", headers=h(setup.reader_key))
    assert versions.json()["versions"] == ["2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"]
    again = post(client, setup, [note(2), note(2)])
    assert [s["message"] for s in again["successes"]] == ["already present"]
    assert again["failure_count"] == 1


def test_tlp_per_partner(client: TestClient, setup: Setup) -> None:
    granular = note(
        10,
        description="secret",
        granular_markings=[{"marking_ref": TLP2_IDS["red"], "selectors": ["description"]}],
    )
    post(
        client,
        setup,
        [
            note(1, "clear"),
            note(2, "green"),
            note(3, "amber"),
            note(4, "amber+strict", owner=OWNER_ORG),
            note(5, "amber+strict"),
            granular,
        ],
    )
    url = f"{ROOT}/collections/{setup.collection}/objects/"

    def contents(key: str) -> dict[str, dict[str, Any]]:
        return {o["content"]: o for o in client.get(url, headers=h(key)).json()["objects"]}

    reader = contents(setup.reader_key)
    assert sorted(reader) == ["note 1", "note 10", "note 2"]
    assert "description" not in reader["note 10"] and "granular_markings" not in reader["note 10"]
    writer = contents(setup.writer_key)
    assert sorted(writer) == [
        "note 1",
        "note 10",
        "note 2",
        "note 3",
        "note 4",
        "note 5",
    ]  # AMBER+STRICT belongs to the sender's organisation, created_by_ref or not
    assert "description" not in writer["note 10"]  # RED never leaves
    manifest = client.get(
        f"{ROOT}/collections/{setup.collection}/manifest/", headers=h(setup.reader_key)
    ).json()
    assert len(manifest["objects"]) == 3  # counts and manifests are cut too
    assert_taxii_error(client.get(f"{url}{note(3)['id']}/", headers=h(setup.reader_key)), 404)


def test_published_incidents_reach_partners(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    now = datetime(2016, 12, 19, 18, 0, tzinfo=UTC)
    with transaction(factory) as session:
        session.add(
            IncidentRow(
                type="assassination",
                weapon="firearm",
                date=date(2016, 12, 19),
                place_name="Ankara",
                country="TR",
                lat=39.92,
                lon=32.85,
                precision="city",
                killed=1,
                injured=3,
                target_categories=["diplomat"],
                target_states=["RU"],
                victims=["Andrei Karlov"],
                perpetrators=["Mevlüt Mert Altıntaş"],
                organizations=[],
                confidence=0.9,
                created_at=now,
                updated_at=now,
            )
        )
    with transaction(factory) as session:
        incident_id = session.scalars(select(IncidentRow.id)).one()
        site = SiteRow(
            key="Q1",
            name="Embassy of Russia in Ankara",
            type="embassy",
            operator="Russia",
            operator_code="RU",
            country="Turkey",
            country_code="TR",
            city="Ankara",
            lat=39.9,
            lon=32.86,
            level=5,
            score=9.0,
            reasons=[],
            created_at=now,
            updated_at=now,
        )
        session.add(site)
        session.flush()
        session.add(
            AlertRow(
                dedup_key="a1",
                site_id=site.id,
                incident_id=incident_id,
                level=5,
                title="t",
                body="b",
                state="new",
                escalations=0,
                created_at=now,
                updated_at=now,
            )
        )
        collection = session.get(CollectionRow, setup.collection)
        assert collection is not None
        collection.policy = {**collection.policy, "sightings": True}
    with transaction(factory) as session:
        assert (
            publish_incidents(session, collection="incidents", producer="Example Ministry")[0] == 1
        )
    with transaction(factory) as session:  # publishing again adds nothing
        assert (
            publish_incidents(session, collection="incidents", producer="Example Ministry")[1] == 0
        )
    got = client.get(
        f"{ROOT}/collections/{setup.collection}/objects/",
        params={"match[type]": "incident"},
        headers=h(setup.reader_key),
    ).json()
    (incident,) = got["objects"]
    assert incident["name"] == "assassination in Ankara, 2016-12-19"
    assert incident["object_marking_refs"] == [TLP2_IDS["green"]]
    # everything a partner receives is valid STIX 2.1
    everything = client.get(
        f"{ROOT}/collections/{setup.collection}/objects/", headers=h(setup.reader_key)
    ).json()["objects"]
    (sighting,) = [o for o in everything if o["type"] == "sighting"]
    assert sighting["sighting_of_ref"] == incident["id"]
    (where,) = [o for o in everything if o["id"] == sighting["where_sighted_refs"][0]]
    assert where["name"] == "Embassy of Russia in Ankara"
    assert {
        "incident",
        "location",
        "threat-actor",
        "relationship",
        "identity",
        "marking-definition",
        "extension-definition",
    } <= {o["type"] for o in everything}
    bundle = {
        "type": "bundle",
        "id": "bundle--6f4c1ac4-5d3d-4e1c-9d1e-6b0c3d7a9e10",
        "objects": everything,
    }
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    # every object a partner receives carries a TLP marking: our producer identity and
    # extension definition too (they were published unmarked)
    received = {o["id"] for o in everything}
    assert {stix_id("identity", "producer/Example Ministry"), LEGATION_EXTENSION} <= received
    for obj in everything:
        if obj["type"] != "marking-definition":
            assert set(obj.get("object_marking_refs", [])) & set(TLP2_IDS.values()), obj["id"]


def test_stored_bodies_come_back_exactly(client: TestClient, setup: Setup) -> None:
    """What COPY (PostgreSQL) and executemany (SQLite) store is what was sent, byte for byte
    in meaning: tabs, newlines, backslashes, COPY's null marker, quotes, non-ASCII, numbers."""
    awkward = 'tab\there\nnew line\r\\N back\\slash "quoted" \u00e9t\u00e9 \U0001f600 \\.'
    sent = [
        note(1, content=awkward, x_count=2**53, x_ratio=0.1, x_nested={"a": [None, True, ""]}),
        note(2, content="\\"),
    ]
    status = post(client, setup, sent)
    assert status["success_count"] == 2, status
    got = client.get(
        f"{ROOT}/collections/{setup.collection}/objects/", headers=h(setup.writer_key)
    ).json()["objects"]
    by_id = {o["id"]: o for o in got}
    for obj in sent:
        assert by_id[obj["id"]] == obj


def test_tlp1_markings_are_stored_as_tlp2(client: TestClient, setup: Setup) -> None:
    white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
    amber1 = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    post(
        client,
        setup,
        [
            note(1, tlp=None, object_marking_refs=[white]),
            note(2, tlp=None, object_marking_refs=[amber1]),
        ],
    )
    got = client.get(
        f"{ROOT}/collections/{setup.collection}/objects/", headers=h(setup.reader_key)
    ).json()["objects"]
    assert [o["object_marking_refs"] for o in got] == [
        [TLP2_IDS["clear"]]
    ]  # the AMBER one is above the reader


def test_every_taxii_endpoint_crosses_to_a_worker_thread_once() -> None:
    """A TAXII request is one unit of work on one worker thread (``api.taxii._serve``).

    FastAPI runs a plain-function endpoint or dependency on a worker thread of its own; four
    such crossings per lookup cost more than the lookup on a busy machine. So no TAXII route
    but the catch-all for unknown paths has one.
    """
    from fastapi.routing import APIRoute

    from legation.api.taxii import router, unknown

    def calls(dependant: Any) -> list[Any]:
        return [dependant.call, *(c for d in dependant.dependencies for c in calls(d))]

    routes = [r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is not unknown]
    assert len(routes) >= 10
    for route in routes:
        for call in calls(route.dependant):
            assert inspect.iscoroutinefunction(call), (route.path, call)
