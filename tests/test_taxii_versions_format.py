"""Manifest and versions answer each version as the object itself writes its ``modified``
(the stored form has microseconds), so that a client can compare them as strings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.settings import Settings
from tests.taxii_fixtures import ROOT, Setup, h, make_setup, note, post


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> Setup:
    return make_setup(factory)


@pytest.fixture
def client(settings: Settings, setup: Setup) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_manifest_and_versions_write_versions_as_the_objects_do(
    client: TestClient, setup: Setup
) -> None:
    stamps = ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00.1Z", "2024-01-03T00:00:00.123456Z"]
    post(client, setup, [note(1, modified=m) for m in stamps] + [note(2)])
    c = f"{ROOT}/collections/{setup.collection}"
    listed = client.get(
        f"{c}/manifest/", params={"match[version]": "all"}, headers=h(setup.reader_key)
    ).json()["objects"]
    objects = client.get(
        f"{c}/objects/", params={"match[version]": "all"}, headers=h(setup.reader_key)
    ).json()["objects"]
    assert [m["version"] for m in listed] == [o["modified"] for o in objects]
    assert [m["version"] for m in listed] == [*stamps, "2024-01-01T00:00:00.000Z"]
    versions = client.get(f"{c}/objects/{note(1)['id']}/versions/", headers=h(setup.reader_key))
    assert versions.json()["versions"] == stamps
