"""The TLP rule end to end: random marked objects in the database, random partners reading
them through every TAXII read endpoint; nothing above clearance appears anywhere."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.settings import Settings
from legation.sharing.stix_check import check_object
from legation.sharing.tlp import LEVELS, Recipient, object_level
from legation.storage import taxii as store
from legation.storage.db import transaction
from legation.storage.partners import add_partner
from tests.taxii_fixtures import TAXII
from tests.test_sharing_stix import ORGS, _check_no_leak, random_object

ROOT = "/taxii2/legation"
READERS = [(level, org) for level in LEVELS for org in (None, *ORGS[:2])]


@pytest.fixture
def world(
    settings: Settings, factory: sessionmaker[Session]
) -> Iterator[tuple[TestClient, sessionmaker[Session], dict[tuple[str, str | None], str]]]:
    keys = {}
    with transaction(factory) as session:
        for n, (level, org) in enumerate(READERS):
            _partner, keys[(level, org)] = add_partner(
                session, name=f"p{n}", clearance=level, organisation=org
            )
    small = settings.model_copy(update={"taxii_page_size": 3})
    with TestClient(create_app(small)) as client:
        yield client, factory, keys


def _collection(factory: sessionmaker[Session], objects: list[dict[str, Any]]) -> str:
    with transaction(factory) as session:
        row = store.create_collection(session, title="c", alias=None, description="", policy={})
        for partner in range(len(READERS)):
            store.grant(
                session, partner_id=partner + 1, collection_id=row.id, read=True, write=False
            )
        store.add_objects(
            session,
            collection_id=row.id,
            objects=[store.NewObject(o, object_level(o), store.version_of(o)) for o in objects],
            source="local",
        )
        return row.id


def _walk(client: TestClient, path: str, key: str, **params: str) -> list[dict[str, Any]]:
    """Every entry of a paged endpoint; no page is empty while 'more' is true."""
    out: list[dict[str, Any]] = []
    query = {"limit": "2", **params}
    while True:
        answer = client.get(path, params=query, headers={"Accept": TAXII, "X-API-Key": key})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        entries = body.get("objects", body.get("versions", []))
        if body["more"]:
            assert entries, f"{path}: empty page with more=true"
        assert ("X-TAXII-Date-Added-Last" in answer.headers) == bool(entries)
        out += entries
        if not body["more"]:
            return out
        query = {**query, "next": body["next"]}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.integers(0, 2**64), st.sampled_from(READERS))
def test_no_leak_through_the_taxii_endpoints(
    world: tuple[TestClient, sessionmaker[Session], dict[tuple[str, str | None], str]],
    seed: int,
    reader: tuple[str, str | None],
) -> None:
    client, factory, keys = world
    rng = random.Random(seed)
    base = rng.randint(0, 10**9)
    objects = [random_object(rng, base + n) for n in range(rng.randint(1, 4))]
    # some objects get a second version with other markings
    for n, obj in enumerate(list(objects)):
        if rng.random() < 0.4:
            again = random_object(rng, base + n, obj["type"])
            objects.append({**again, "modified": "2021-01-01T00:00:00.000Z"})
    collection = _collection(factory, objects)
    key = keys[reader]
    recipient = Recipient(*reader)
    originals = {(o["id"], store.version_of(o)): o for o in objects}
    c = f"{ROOT}/collections/{collection}"

    received = _walk(client, f"{c}/objects/", key, **{"match[version]": "all"})
    got = {(o["id"], store.version_of(o)): o for o in received}
    assert len(got) == len(received)
    for (ident, version), original in originals.items():
        out = got.get((ident, version))
        _check_no_leak(original, out, recipient)
        if out is not None:
            check_object(out, custom_objects=False)  # stix2, with our selector check
    manifest = _walk(client, f"{c}/manifest/", key, **{"match[version]": "all"})
    assert {(m["id"], m["version"]) for m in manifest} == {
        (o["id"], o.get("modified") or o["created"]) for o in received
    }
    assert {(m["id"], store.version_of({"modified": m["version"]})) for m in manifest} == set(got)
    for ident in {o["id"] for o in objects} | {f"note--{uuid.UUID(int=seed % 2**128)}"}:
        mine = sorted(v for i, v in got if i == ident)
        by_id = client.get(
            f"{c}/objects/{ident}/",
            params={"match[version]": "all"},
            headers={"Accept": TAXII, "X-API-Key": key},
        )
        versions = client.get(
            f"{c}/objects/{ident}/versions/", headers={"Accept": TAXII, "X-API-Key": key}
        )
        if not mine:
            assert by_id.status_code == versions.status_code == 404
            continue
        assert sorted(store.version_of(o) for o in by_id.json()["objects"]) == mine
        listed = versions.json()["versions"]
        assert sorted(store.version_of({"modified": v}) for v in listed) == mine
