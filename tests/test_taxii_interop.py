"""Interoperability on loopback: taxii2-client (what MISP and OpenCTI use) against our server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker
from taxii2client.v21 import Collection, Server, as_pages

from legation.settings import Settings
from tests.live_server import serve
from tests.taxii_fixtures import TAXII, Setup, make_setup, note

pytestmark = pytest.mark.slow


@pytest.fixture
def live(settings: Settings, factory: sessionmaker[Session]) -> Iterator[tuple[str, Setup]]:
    setup = make_setup(factory)
    with serve(settings.model_copy(update={"taxii_page_size": 500})) as url:
        yield url, setup


def _collection(server: Server) -> Collection:
    (root,) = server.api_roots
    (collection,) = root.collections
    return collection


def test_taxii2_client_every_endpoint(live: tuple[str, Setup]) -> None:
    url, _setup = live
    server = Server(f"{url}/taxii2/", user="writer", password="writer-pass")
    assert server.title.endswith("TAXII server")
    (root,) = server.api_roots
    assert root.max_content_length == 10 * 1024 * 1024
    collection = _collection(server)
    assert collection.can_write and collection.alias == "incidents"
    status = collection.add_objects(
        {"objects": [note(1), note(2), note(1, modified="2024-03-01T00:00:00.000Z"), {"id": "x"}]}
    )
    assert status.status == "complete" and status.success_count == 3 and status.failure_count == 1
    status.refresh()
    assert status.total_count == 4
    assert len(collection.get_objects()["objects"]) == 2
    assert len(collection.get_objects(version="all")["objects"]) == 3
    manifest = collection.get_manifest(type="note")
    assert len(manifest["objects"]) == 2
    one = note(1)["id"]
    assert collection.get_object(one)["objects"][0]["modified"] == "2024-03-01T00:00:00.000Z"
    assert len(collection.object_versions(one)["versions"]) == 2
    collection.delete_object(one)
    with pytest.raises(requests.HTTPError) as failed:
        collection.get_object(one)
    assert failed.value.response.status_code == 404
    assert failed.value.response.json()["http_status"] == "404"


def test_taxii2_client_bearer_and_refusals(live: tuple[str, Setup]) -> None:
    url, setup = live
    session = requests.Session()
    answer = session.get(f"{url}/taxii2/", headers={"Accept": TAXII})
    assert answer.status_code == 401 and answer.headers["content-type"] == TAXII
    reader = Collection(
        f"{url}/taxii2/legation/collections/{setup.collection}/",
        conn=None,
        user="reader",
        password="reader-pass",
    )
    assert reader.can_read and not reader.can_write
    answer = requests.get(
        f"{url}/taxii2/legation/collections/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {setup.reader_key}"},
    )
    assert answer.status_code == 200 and len(answer.json()["collections"]) == 1
    bogus = requests.get(
        f"{url}/taxii2/legation/collections/{setup.collection}/objects/",
        params={"next": "nope"},
        headers={"Accept": TAXII, "Authorization": f"Bearer {setup.reader_key}"},
    )
    assert bogus.status_code == 400 and bogus.json()["http_status"] == "400"


def test_taxii2_client_pages_to_the_end_over_5000_objects(live: tuple[str, Setup]) -> None:
    url, _setup = live
    collection = _collection(Server(f"{url}/taxii2/", user="writer", password="writer-pass"))
    objects = [note(i) for i in range(5000)]
    for start in range(0, 5000, 1000):
        status = collection.add_objects({"objects": objects[start : start + 1000]})
        assert status.success_count == 1000
    seen: list[Any] = []
    pages = 0
    for envelope in as_pages(collection.get_objects, per_request=500):
        seen += [o["id"] for o in envelope.get("objects", [])]
        pages += 1
    assert pages == 10 and len(seen) == len(set(seen)) == 5000
    manifest = [
        m["id"]
        for page in as_pages(collection.get_manifest, per_request=500)
        for m in page.get("objects", [])
    ]
    assert manifest == seen
    # incremental: after the 4,321st object's date_added exactly the rest comes
    cut = [
        m for page in as_pages(collection.get_manifest, per_request=500) for m in page["objects"]
    ][4320]
    rest = [
        o["id"]
        for page in as_pages(collection.get_objects, per_request=500, added_after=cut["date_added"])
        for o in page.get("objects", [])
    ]
    assert rest == seen[4321:]
    filtered = collection.get_objects(id=",".join(seen[:3]))
    assert sorted(o["id"] for o in filtered["objects"]) == sorted(seen[:3])
