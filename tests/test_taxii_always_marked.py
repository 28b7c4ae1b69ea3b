"""An object is never served without a TLP marking: a granular marking on
``object_marking_refs`` keeps the strictest object-level TLP marking, and an object whose
stored body has no TLP marking at all is withheld."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.settings import Settings
from legation.sharing.tlp import TLP2_IDS, Recipient, filter_object
from legation.storage import taxii as store
from legation.storage.db import transaction
from tests.taxii_fixtures import ROOT, Setup, h, make_setup, note, post

COPYRIGHT = "marking-definition--22222222-2222-4222-8222-222222222222"
STATEMENT = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": COPYRIGHT,
    "created": "2024-01-01T00:00:00.000Z",
    "definition_type": "statement",
    "definition": {"statement": "Copyright partner"},
    "object_marking_refs": [TLP2_IDS["green"]],
}


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> Setup:
    return make_setup(factory)


@pytest.fixture
def client(settings: Settings, setup: Setup) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_red_granular_marking_on_the_markings_keeps_the_tlp(
    client: TestClient, setup: Setup
) -> None:
    red_markings = {"marking_ref": TLP2_IDS["red"], "selectors": ["object_marking_refs"]}
    plain = note(54, granular_markings=[red_markings])
    two = note(
        55,
        tlp=None,
        object_marking_refs=[TLP2_IDS["clear"], COPYRIGHT, TLP2_IDS["green"]],
        granular_markings=[
            red_markings,
            {"marking_ref": TLP2_IDS["green"], "selectors": ["object_marking_refs.[1]"]},
        ],
    )
    status = post(client, setup, [STATEMENT, plain, two])
    assert status["failure_count"] == 0, status["failures"]
    c = f"{ROOT}/collections/{setup.collection}/objects"
    for obj in (plain, two):
        got = client.get(f"{c}/{obj['id']}/", headers=h(setup.reader_key))
        assert got.status_code == 200, got.text
        (served,) = got.json()["objects"]
        assert served["object_marking_refs"] == [TLP2_IDS["green"]]
        assert "granular_markings" not in served
    # RED never leaves, not even to the owner: the writer gets the same cut
    (served,) = client.get(f"{c}/{two['id']}/", headers=h(setup.writer_key)).json()["objects"]
    assert served["object_marking_refs"] == [TLP2_IDS["green"]]


def test_an_object_without_a_tlp_marking_is_never_served(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    unmarked = note(56, tlp=None)
    statement_only = note(57, tlp=None, object_marking_refs=[COPYRIGHT])
    with transaction(factory) as session:
        store.add_objects(
            session,
            collection_id=setup.collection,
            objects=[
                store.NewObject(o, "green", store.version_of(o)) for o in (unmarked, statement_only)
            ],
            source="local",
        )
    c = f"{ROOT}/collections/{setup.collection}/objects"
    everything = client.get(f"{c}/", headers=h(setup.writer_key)).json()["objects"]
    assert {o["id"] for o in everything}.isdisjoint({unmarked["id"], statement_only["id"]})
    reader = Recipient("amber")
    assert filter_object(unmarked, reader, default="green") is None
    assert filter_object(note(58), reader, default="green") is not None
