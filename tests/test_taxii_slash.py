"""A TAXII URL without its trailing slash is redirected to the one with it (307: same
method and body), as for the discovery URL, instead of answering 404."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.settings import Settings
from tests.taxii_fixtures import ROOT, TAXII, Setup, h, make_setup, note


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> Setup:
    return make_setup(factory)


@pytest.fixture
def client(settings: Settings, setup: Setup) -> Iterator[TestClient]:
    with TestClient(create_app(settings), follow_redirects=False) as test_client:
        yield test_client


def test_a_missing_trailing_slash_redirects(client: TestClient, setup: Setup) -> None:
    c = f"{ROOT}/collections/{setup.collection}"
    for path in ("/taxii2", ROOT, f"{ROOT}/collections", c, f"{c}/objects", f"{c}/manifest"):
        answer = client.get(path, params={"limit": "5"}, headers=h(setup.reader_key))
        assert answer.status_code == 307, path
        assert answer.headers["location"].split("?")[0].endswith(path + "/")
        followed = client.get(
            path, params={"limit": "5"}, headers=h(setup.reader_key), follow_redirects=True
        )
        assert followed.status_code == 200, (path, followed.text)
    posted = client.post(
        f"{c}/objects",
        content=json.dumps({"objects": [note(1)]}),
        headers=h(setup.writer_key, **{"Content-Type": TAXII}),
        follow_redirects=True,
    )
    assert posted.status_code == 202 and posted.json()["success_count"] == 1
    assert (
        client.get(f"{c}/objects/{note(1)['id']}", headers=h(setup.reader_key)).status_code == 307
    )
    # still 404 where nothing is, slash or not; 405 for a method an endpoint does not take
    assert client.get(f"{ROOT}/nothing", headers=h(setup.reader_key)).status_code == 404
    assert client.put(f"{c}/objects", headers=h(setup.writer_key)).status_code == 405


def test_credentials_are_checked_before_the_redirect(client: TestClient, setup: Setup) -> None:
    """No, wrong or unknown credentials: 401 at once, never a 307 to the slashed URL."""
    c = f"{ROOT}/collections/{setup.collection}"
    paths = ("/taxii2", ROOT, f"{ROOT}/collections", c, f"{c}/objects", f"{c}/manifest")
    for path in paths:
        for headers in ({"Accept": TAXII}, h("wrong-key")):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 401, (path, headers)
            assert "location" not in answer.headers
            assert answer.headers["content-type"].startswith("application/taxii+json")
        wrong = client.get(path, headers={"Accept": TAXII}, auth=("reader", "not-it"))
        assert wrong.status_code == 401, path
    posted = client.post(
        f"{c}/objects", content=b"{}", headers={"Accept": TAXII, "Content-Type": TAXII}
    )
    assert posted.status_code == 401
    assert client.post("/taxii2", headers=h(setup.reader_key)).status_code == 405
