"""TLP markings of other producers (OpenCTI's ids and definitions, misp-stix labels, TLP
definitions we do not know) count as their TLP 2.0 level on intake, both on our server and
in a pull, instead of being read as unmarked and given the collection default."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.partners.client import Remote, pull
from legation.settings import Settings
from legation.sharing.tlp import LEVELS, TLP2_IDS, definition_level, label_level
from legation.storage.db import transaction
from legation.storage.sharing_tables import StixObjectRow
from legation.storage.taxii import create_collection
from tests.http_fixture import Answer, LocalServer
from tests.taxii_fixtures import ROOT, Setup, h, make_setup, note, post

OCTI_STRICT = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"
OCTI_STRICT_DEFINITION = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": OCTI_STRICT,
    "created": "2022-10-01T00:00:00.000Z",
    "definition_type": "statement",
    "definition": {"statement": "custom"},
    "name": "TLP:AMBER+STRICT",
    "x_opencti_definition_type": "TLP",
    "x_opencti_definition": "TLP:AMBER+STRICT",
}
PINK = "marking-definition--33333333-3333-4333-8333-333333333333"
PINK_DEFINITION = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": PINK,
    "created": "2024-01-01T00:00:00.000Z",
    "definition_type": "statement",
    "definition": {"statement": "TLP:PINK, only for us"},
    "name": "TLP:PINK",
}
V1_AMBER = "marking-definition--44444444-4444-4444-8444-444444444444"
V1_AMBER_DEFINITION = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": V1_AMBER,
    "created": "2024-01-01T00:00:00.000Z",
    "definition_type": "tlp",
    "definition": {"tlp": "amber"},
}


def _foreign_batch() -> list[dict[str, Any]]:
    return [
        OCTI_STRICT_DEFINITION,
        PINK_DEFINITION,
        V1_AMBER_DEFINITION,
        note(80, tlp=None, object_marking_refs=[OCTI_STRICT]),
        note(81, tlp=None, labels=["tlp:amber+strict"]),
        note(82, tlp=None, object_marking_refs=[PINK]),
        note(83, tlp=None, object_marking_refs=[V1_AMBER]),
        note(84, tlp=None, labels=["TLP:GREEN", "tlp:ex:chr"]),
        note(85, tlp="green", labels=["tlp:clear"]),  # the stricter marking stays
        note(86, tlp=None),  # really unmarked: the collection default (GREEN)
    ]


EXPECTED = {
    note(80)["id"]: "amber+strict",
    note(81)["id"]: "amber+strict",
    note(82)["id"]: "red",
    note(83)["id"]: "amber",
    note(84)["id"]: "red",
    note(85)["id"]: "green",
    note(86)["id"]: "green",
}


def _stored(factory: sessionmaker[Session], collection: str) -> dict[str, tuple[str, Any]]:
    with transaction(factory) as session:
        rows = session.execute(
            select(StixObjectRow.stix_id, StixObjectRow.tlp, StixObjectRow.body).where(
                StixObjectRow.collection_id == collection
            )
        ).all()
        return {r.stix_id: (LEVELS[r.tlp], r.body) for r in rows}


def _check_stored(stored: dict[str, tuple[str, Any]], ceiling: str = "red") -> None:
    for ident, level in EXPECTED.items():
        if LEVELS.index(level) > LEVELS.index(ceiling):
            assert ident not in stored
            continue
        got, body = stored[ident]
        assert got == level, ident
        assert TLP2_IDS[level] in body["object_marking_refs"], ident
        assert OCTI_STRICT not in body["object_marking_refs"]
        assert (
            PINK not in body["object_marking_refs"] and V1_AMBER not in body["object_marking_refs"]
        )
    for foreign in (OCTI_STRICT, PINK, V1_AMBER):
        assert foreign not in stored


def test_definition_and_label_levels() -> None:
    assert definition_level(OCTI_STRICT_DEFINITION) == "amber+strict"
    assert definition_level({**OCTI_STRICT_DEFINITION, "id": PINK}) == "amber+strict"
    assert definition_level(PINK_DEFINITION) == "red"
    assert definition_level(V1_AMBER_DEFINITION) == "amber"
    unknown_tlp = {**V1_AMBER_DEFINITION, "definition": {"tlp": "orange"}}
    assert definition_level(unknown_tlp) == "red"
    named_only = {**PINK_DEFINITION, "definition": {"statement": "x"}, "name": "TLP:GREEN"}
    assert definition_level(named_only) == "green"
    copyright_ = {**PINK_DEFINITION, "definition": {"statement": "Copyright 2024"}, "name": "c"}
    assert definition_level(copyright_) is None
    assert label_level(["tlp:amber+strict"]) == "amber+strict"
    assert label_level(["tlp:white", "malicious"]) == "clear"
    assert label_level(["tlp:unclear"]) == "red"
    assert label_level(["malicious"]) is None


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> Setup:
    return make_setup(factory)


@pytest.fixture
def client(settings: Settings, setup: Setup) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_foreign_tlp_markings_count_on_post(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    status = post(client, setup, _foreign_batch())
    failed = {f["id"]: f["message"] for f in status["failures"]}
    # the collection takes up to AMBER+STRICT: what reads as RED is refused, naming it
    red = {note(82)["id"], note(84)["id"]}
    assert set(failed) == {OCTI_STRICT, PINK, V1_AMBER, *red}
    assert all("TLP:RED is above" in failed[ident] for ident in red)
    assert "TLP:RED" in failed[PINK] and "TLP:AMBER" in failed[V1_AMBER]
    assert "OpenCTI's TLP:AMBER+STRICT" in failed[OCTI_STRICT]
    _check_stored(_stored(factory, setup.collection), ceiling="amber+strict")
    # the GREEN reader of another organisation gets only what really is GREEN
    got = client.get(
        f"{ROOT}/collections/{setup.collection}/objects/", headers=h(setup.reader_key)
    ).json()["objects"]
    assert {o["id"] for o in got} == {note(85)["id"], note(86)["id"]}


def test_foreign_tlp_markings_count_on_pull(
    local_server: LocalServer, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        policy = {"max_tlp": "red", "default_tlp": "green"}
        inbox = create_collection(
            session, title="inbox", alias="inbox", description="", policy=policy
        ).id
    envelope = {"more": False, "objects": _foreign_batch()}
    local_server.routes["/c/objects/"] = lambda _seen: Answer(
        200, json.dumps(envelope).encode(), {"Content-Type": "application/taxii+json;version=2.1"}
    )
    pull(factory, partner="octi", remote=Remote(local_server.url("/c/")), into="inbox")
    _check_stored(_stored(factory, inbox))
