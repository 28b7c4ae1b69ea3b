"""'next' cursors live in the database: one made by one app instance pages on in another
(a second worker, or the same server after a restart), and an expired one is a precise
400, whether it is still stored or already purged."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.api import create_app
from legation.settings import Settings
from legation.storage import taxii as store
from tests.taxii_fixtures import ROOT, Setup, h, make_setup, note, post


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> Setup:
    return make_setup(factory)


def test_a_cursor_pages_on_in_another_instance_and_after_a_restart(
    settings: Settings, setup: Setup
) -> None:
    url = f"{ROOT}/collections/{setup.collection}/objects/"
    key = h(setup.reader_key)
    seen: list[str] = []
    with TestClient(create_app(settings)) as first:
        post(first, setup, [note(n) for n in range(7)])
        page = first.get(url, params={"limit": "2"}, headers=key).json()
        seen += [o["id"] for o in page["objects"]]
        with TestClient(create_app(settings)) as second:  # another worker, same database
            page = second.get(url, params={"limit": "2", "next": page["next"]}, headers=key)
            page = page.json()
            seen += [o["id"] for o in page["objects"]]
    token = page["next"]
    with TestClient(create_app(settings)) as restarted:  # both gone: a restart
        while True:
            answer = restarted.get(url, params={"limit": "2", "next": token}, headers=key)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            seen += [o["id"] for o in page["objects"]]
            if not page["more"]:
                break
            token = page["next"]
    assert seen == [note(n)["id"] for n in range(7)]


def test_an_expired_cursor_is_a_400(
    settings: Settings, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{ROOT}/collections/{setup.collection}/objects/"
    key = h(setup.reader_key)
    short = settings.model_copy(update={"taxii_cursor_seconds": 60})
    with TestClient(create_app(short)) as client:
        post(client, setup, [note(n) for n in range(5)])
        old = client.get(url, params={"limit": "1"}, headers=key).json()["next"]
        real = store.now_us
        monkeypatch.setattr(store, "now_us", lambda: real() + 61_000_000)
        answer = client.get(url, params={"limit": "1", "next": old}, headers=key)
        assert answer.status_code == 400
        assert "has expired" in answer.json()["description"]
        # a new page stores a new cursor and purges expired ones: the old one is unknown now
        fresh = client.get(url, params={"limit": "1"}, headers=key).json()["next"]
        answer = client.get(url, params={"limit": "1", "next": old}, headers=key)
        assert answer.status_code == 400 and "not valid" in answer.json()["description"]
        # within its time a cursor works
        assert client.get(url, params={"limit": "1", "next": fresh}, headers=key).status_code == 200
