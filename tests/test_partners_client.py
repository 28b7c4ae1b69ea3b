"""Our TAXII client: incremental and resumable pulls, pushes, odd servers, medallion as a peer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from legation.errors import AuthError, SourceError
from legation.partners.client import Remote, pull, push
from legation.settings import Settings
from legation.sharing.tlp import Recipient
from legation.storage.db import transaction
from legation.storage.sharing_tables import StixObjectRow
from legation.storage.taxii import create_collection
from tests.http_fixture import Answer, LocalServer
from tests.live_server import free_port, serve
from tests.taxii_fixtures import Setup, make_setup, note

pytestmark = pytest.mark.slow


def _inbox(factory: sessionmaker[Session], alias: str = "inbox") -> str:
    with transaction(factory) as session:
        policy = {"max_tlp": "amber+strict", "default_tlp": "amber"}
        return create_collection(
            session, title=alias, alias=alias, description="", policy=policy
        ).id


def _count(factory: sessionmaker[Session], collection: str) -> tuple[int, int]:
    with transaction(factory) as session:
        total, ids = session.execute(
            select(func.count(), func.count(StixObjectRow.stix_id.distinct())).where(
                StixObjectRow.collection_id == collection
            )
        ).one()
        return int(total), int(ids)


class CrashAfter(httpx.BaseTransport):
    """A real HTTP transport that dies after ``n`` requests (a crash in the middle of a pull)."""

    def __init__(self, n: int) -> None:
        self.inner, self.left = httpx.HTTPTransport(), n

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.left == 0:
            raise RuntimeError("simulated crash")
        self.left -= 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def live(settings: Settings, factory: sessionmaker[Session]) -> Iterator[tuple[str, Setup]]:
    setup = make_setup(factory)
    with serve(settings) as url:
        yield url, setup


def test_pull_is_incremental_and_resumes_after_a_crash(
    live: tuple[str, Setup], factory: sessionmaker[Session]
) -> None:
    url, setup = live
    inbox = _inbox(factory)
    remote = Remote(
        f"{url}/taxii2/legation/collections/{setup.collection}/", "writer", "writer-pass"
    )
    objects = [note(i) for i in range(700)]
    assert push_raw(url, setup, objects[:600]) == 600
    with pytest.raises(RuntimeError, match="simulated crash"):
        pull(
            factory,
            partner="p",
            remote=remote,
            into="inbox",
            page_size=100,
            transport=CrashAfter(3),
        )
    assert _count(factory, inbox) == (300, 300)  # three pages committed
    result = pull(factory, partner="p", remote=remote, into="inbox", page_size=100)
    assert result.added == 300 and _count(factory, inbox) == (600, 600)
    assert push_raw(url, setup, objects[600:]) == 100
    again = pull(factory, partner="p", remote=remote, into="inbox", page_size=100)
    assert again.added == 100 and _count(factory, inbox) == (700, 700)
    with transaction(factory) as session:
        row = session.scalars(
            select(StixObjectRow).where(StixObjectRow.collection_id == inbox)
        ).first()
        assert row is not None and row.source == "partner:p"  # provenance
        assert row.body["object_marking_refs"] == note(0)["object_marking_refs"]  # marking kept


def push_raw(url: str, setup: Setup, objects: list[dict[str, Any]]) -> int:
    answer = httpx.post(
        f"{url}/taxii2/legation/collections/{setup.collection}/objects/",
        content=json.dumps({"objects": objects}),
        headers={
            "Authorization": f"Bearer {setup.writer_key}",
            "Accept": "application/taxii+json;version=2.1",
            "Content-Type": "application/taxii+json;version=2.1",
        },
        timeout=60,
    )
    return int(answer.json()["success_count"])


def test_odd_servers(local_server: LocalServer, factory: sessionmaker[Session]) -> None:
    _inbox(factory)
    local_server.routes["/c/objects/"] = lambda _seen: Answer(302, headers={"Location": "/login"})
    with pytest.raises(AuthError, match="redirected to '/login'"):
        pull(factory, partner="odd", remote=Remote(local_server.url("/c/"), "u", "p"), into="inbox")
    body = json.dumps({"title": "Unauthorized", "http_status": 401}).encode()
    local_server.routes["/d/objects/"] = lambda _seen: Answer(401, body)
    with pytest.raises(AuthError, match="http_status 401"):
        pull(
            factory,
            partner="odd",
            remote=Remote(local_server.url("/d/"), api_key="k"),
            into="inbox",
        )
    assert local_server.seen[-1].headers["authorization"] == "Bearer k"
    body = json.dumps({"title": "Bad", "http_status": "400"}).encode()
    local_server.routes["/e/objects/"] = lambda _seen: Answer(400, body)
    with pytest.raises(SourceError, match="http_status 400"):
        pull(factory, partner="odd", remote=Remote(local_server.url("/e/")), into="inbox")


@pytest.fixture
def medallion() -> Iterator[str]:
    """medallion 3 (memory backend) on a loopback port, stopped by its pid."""
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="medallion-"))
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {"title": "m", "default": f"{base}/root/", "api_roots": [f"{base}/root/"]},
        "root": {
            "information": {
                "title": "root",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 10_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": "9f1b9d0c-0000-4000-8000-000000000001",
                    "title": "c",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (folder / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(folder / "data.json"),
        },
        "users": {"u": "p"},
        "taxii": {"max_page_size": 50},
    }
    (folder / "conf.json").write_text(json.dumps(config))
    exe = Path(sys.executable).parent / "medallion"
    proc = subprocess.Popen(
        [
            str(exe),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "WARN",
            str(folder / "conf.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/taxii2/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield f"{base}/root/collections/9f1b9d0c-0000-4000-8000-000000000001/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_push_to_and_pull_from_medallion(medallion: str, factory: sessionmaker[Session]) -> None:
    outbox = _inbox(factory, "outbox")
    inbox = _inbox(factory, "inbox")
    objects = [note(i, tlp=("green" if i % 3 else "amber")) for i in range(120)]
    from legation.partners.intake import check_objects
    from legation.storage.taxii import add_objects

    with transaction(factory) as session:
        add_objects(
            session, collection_id=outbox, objects=check_objects(objects, {})[0], source="local"
        )
    remote = Remote(medallion, "u", "p")
    accepted, refused = push(
        factory, collection="outbox", remote=remote, recipient=Recipient("green"), batch=50
    )
    assert (accepted, refused) == (80, 0)  # the AMBER third stays home
    # medallion gives every object of one POST the same date_added; paging must still finish
    result = pull(factory, partner="medallion", remote=remote, into="inbox", page_size=50)
    assert result.added == 80 and _count(factory, inbox) == (80, 80)
    assert pull(factory, partner="medallion", remote=remote, into="inbox", page_size=50).added == 0
