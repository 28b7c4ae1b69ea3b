"""Objects several incidents share (places, groups, sites) do not disappear for a partner
because an incident of a higher TLP was published later, and a partner never receives a
reference (a relationship's target, a sighting's site, a report's incident) it cannot
fetch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.settings import Settings
from legation.sharing.model import SharedIncident, SharedPlace, SharedSite
from legation.sharing.stix import (
    extension_definition,
    incident_to_stix,
    producer_identity,
    sighting_to_stix,
)
from legation.sharing.tlp import all_marking_definitions, object_level
from legation.storage import taxii as store
from legation.storage.db import transaction
from tests.taxii_fixtures import ROOT, Setup, h, make_setup

WHEN = datetime(2024, 1, 1, tzinfo=UTC)
GREEN = SharedIncident(
    key="incident/1",
    type="bombing",
    weapon="explosive",
    date=date(2024, 1, 1),
    place=SharedPlace("Kabul", "AF", 34.5, 69.2),
    killed=1,
    injured=0,
    target_categories=(),
    target_states=(),
    perpetrators=("Group X",),
    reports=(),
    confidence=0.8,
    created=WHEN,
    modified=WHEN,
    tlp="green",
)
SITE = SharedSite("Q1", "Embassy", "embassy", "DE", "AF", "Kabul", 34.5, 69.2)


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> Setup:
    return make_setup(factory)


@pytest.fixture
def client(settings: Settings, setup: Setup) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _publish(factory: sessionmaker[Session], setup: Setup, incidents: list[SharedIncident]) -> None:
    producer = producer_identity("Example")
    objects = [*all_marking_definitions(), producer, extension_definition(producer["id"])]
    for incident in incidents:
        objects += incident_to_stix(incident, producer["id"])
        objects += sighting_to_stix(incident, SITE, producer["id"])
    with transaction(factory) as session:
        store.add_objects(
            session,
            collection_id=setup.collection,
            objects=[
                store.NewObject(o, object_level(o, "clear"), store.version_of(o)) for o in objects
            ],
            source="local",
        )


def _refs(obj: dict[str, Any]) -> set[str]:
    out = set()
    for name, value in obj.items():
        if name.endswith("_ref") and isinstance(value, str):
            out.add(value)
        elif name.endswith("_refs") and isinstance(value, list):
            out |= set(value)
    return out


def test_shared_objects_stay_for_lower_clearances(
    client: TestClient, setup: Setup, factory: sessionmaker[Session]
) -> None:
    amber = replace(GREEN, key="incident/2", tlp="amber", modified=WHEN + timedelta(days=1))
    _publish(factory, setup, [GREEN])
    _publish(factory, setup, [amber])  # later, same place, group and site
    c = f"{ROOT}/collections/{setup.collection}/objects"
    got = client.get(f"{c}/", headers=h(setup.reader_key)).json()["objects"]  # GREEN reader
    kinds = {o["type"] for o in got}
    assert {"incident", "location", "threat-actor", "sighting", "identity"} <= kinds
    ids = {o["id"] for o in got}
    for obj in got:
        assert _refs(obj) <= ids, (obj["id"], _refs(obj) - ids)
        for ref in _refs(obj):
            assert client.get(f"{c}/{ref}/", headers=h(setup.reader_key)).status_code == 200
    # the AMBER partner gets both incidents, each with its references complete
    writer = client.get(f"{c}/", headers=h(setup.writer_key)).json()["objects"]
    assert len([o for o in writer if o["type"] == "incident"]) == 2
    every = {o["id"] for o in writer}
    assert all(_refs(o) <= every for o in writer)


def test_incidents_target_the_governments_of_the_targeted_states() -> None:
    incident = replace(GREEN, target_states=("RU", "US"))
    objects = incident_to_stix(incident, producer_identity("Example")["id"])
    (inc,) = [o for o in objects if o["type"] == "incident"]
    by_id = {o["id"]: o for o in objects}
    targets = [
        by_id[o["target_ref"]]
        for o in objects
        if o["type"] == "relationship" and o["relationship_type"] == "targets"
    ]
    assert all(
        o["source_ref"] == inc["id"]
        for o in objects
        if o["type"] == "relationship" and o["relationship_type"] == "targets"
    )
    assert sorted(t["name"] for t in targets) == [
        "Government of Russian Federation",
        "Government of United States",
    ]
    assert {t["identity_class"] for t in targets} == {"organization"}
    assert {tuple(t["object_marking_refs"]) for t in targets} == {tuple(inc["object_marking_refs"])}
    # an AMBER incident's targeted state is another object (one per TLP level)
    amber = incident_to_stix(replace(incident, tlp="amber"), producer_identity("Example")["id"])
    assert not {t["id"] for t in targets} & {o["id"] for o in amber}
