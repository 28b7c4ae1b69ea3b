"""Our TAXII client against fake servers that page oddly, refuse things or answer 'pending'."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from legation.partners.client import Remote, pull, push
from legation.sharing.tlp import Recipient
from legation.storage import taxii as store
from legation.storage.db import transaction
from legation.storage.sharing_tables import StixObjectRow
from tests.taxii_fixtures import note

URL = "https://partner.example/taxii2/root/collections/c1/"
STAMPS = ["2024-01-01T00:00:00.000001Z", "2024-01-01T00:00:00.000002Z"]


def _inbox(factory: sessionmaker[Session]) -> str:
    with transaction(factory) as session:
        policy = {"max_tlp": "amber+strict", "default_tlp": "amber"}
        return store.create_collection(
            session, title="inbox", alias="inbox", description="", policy=policy
        ).id


def _stored(factory: sessionmaker[Session], collection: str) -> int:
    with transaction(factory) as session:
        return int(
            session.scalar(select(func.count()).where(StixObjectRow.collection_id == collection))
            or 0
        )


class Server:
    """Objects in (date_added, position) order; 'more' but never 'next'."""

    def __init__(
        self,
        objects: list[tuple[str, dict[str, Any]]],
        *,
        inclusive: bool = False,
        headers: bool = True,
        stamps_in_objects: bool = False,
        empty_first: int = 0,
    ) -> None:
        self.objects = objects
        self.inclusive, self.headers = inclusive, headers
        self.stamps_in_objects, self.empty_first = stamps_in_objects, empty_first
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        assert self.requests < 200, "the client does not stop"
        if self.empty_first:
            self.empty_first -= 1
            return httpx.Response(200, json={"more": True, "objects": []})
        params = request.url.params
        limit = min(int(params.get("limit", "100")), 50)
        after = params.get("added_after")
        rows = [
            (stamp, obj)
            for stamp, obj in self.objects
            if after is None
            or (
                store.parse_timestamp(stamp) >= store.parse_timestamp(after)
                if self.inclusive
                else store.parse_timestamp(stamp) > store.parse_timestamp(after)
            )
        ]
        chosen = rows[:limit]
        body = {
            "more": len(rows) > limit,
            "objects": [
                {**obj, "date_added": stamp} if self.stamps_in_objects else obj
                for stamp, obj in chosen
            ],
        }
        headers = {}
        if chosen and self.headers:
            headers["X-TAXII-Date-Added-First"] = chosen[0][0]
            headers["X-TAXII-Date-Added-Last"] = chosen[-1][0]
        return httpx.Response(200, json=body, headers=headers)


def _run(factory: sessionmaker[Session], server: Callable[[httpx.Request], httpx.Response]) -> Any:
    return pull(
        factory,
        partner="odd",
        remote=Remote(URL),
        into="inbox",
        page_size=4,
        transport=httpx.MockTransport(server),
    )


@pytest.mark.parametrize("inclusive", [False, True])
def test_more_without_next_and_many_objects_sharing_one_date_added(
    factory: sessionmaker[Session], inclusive: bool
) -> None:
    inbox = _inbox(factory)
    # 30 objects under one date_added, 7 under the next: more than a page (4) each
    objects = [(STAMPS[0], note(i)) for i in range(30)] + [
        (STAMPS[1], note(i)) for i in range(30, 37)
    ]
    result = _run(factory, Server(objects, inclusive=inclusive))
    assert result.added == 37 and _stored(factory, inbox) == 37
    assert result.failed == 0
    again = _run(factory, Server(objects, inclusive=inclusive))  # resumes; nothing twice
    assert again.added == 0 and _stored(factory, inbox) == 37


def test_no_headers_and_empty_pages_with_more(factory: sessionmaker[Session]) -> None:
    inbox = _inbox(factory)
    objects = [(f"2024-01-01T00:00:{i:02d}.000000Z", note(i)) for i in range(10)]
    server = Server(objects, headers=False, stamps_in_objects=True, empty_first=2)
    result = _run(factory, server)
    assert result.added == 10 and _stored(factory, inbox) == 10
    # a server that keeps saying 'more' with nothing in it is left after a few tries
    stuck = Server([], empty_first=1000)
    assert _run(factory, stuck).added == 0 and stuck.requests <= 5


def test_refused_objects_are_listed(factory: sessionmaker[Session]) -> None:
    _inbox(factory)
    bad = {**note(2), "spec_version": "2.0"}
    red = note(3, "red")
    objects = [(STAMPS[0], note(1)), (STAMPS[0], bad), (STAMPS[1], red)]
    result = _run(factory, Server(objects))
    assert result.failed == 2
    assert {(f["id"], f["version"]) for f in result.refused} == {
        (bad["id"], bad["modified"]),
        (red["id"], red["modified"]),
    }
    assert all(f["message"] for f in result.refused)


def test_push_keeps_under_max_content_length_and_waits_for_pending(
    factory: sessionmaker[Session],
) -> None:
    outbox = _inbox(factory)
    objects = [note(i, content="x" * 300) for i in range(20)]
    with transaction(factory) as session:
        store.add_objects(
            session,
            collection_id=outbox,
            objects=[store.NewObject(o, "green", store.version_of(o)) for o in objects]
            + [store.NewObject(note(99, content="y" * 5000), "green", store.version_of(note(99)))],
            source="local",
        )
    limit = 2000
    posts: list[int] = []
    statuses: dict[str, list[dict[str, Any]]] = {}
    polls = {"n": 0}

    def server(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/taxii2/root/":
            return httpx.Response(200, json={"title": "r", "max_content_length": limit})
        if request.method == "POST":
            body = request.content
            posts.append(len(body))
            if len(body) > limit:
                return httpx.Response(413, json={"title": "too large", "http_status": 413})
            sent = json.loads(body)["objects"]
            ident = f"s{len(posts)}"
            statuses[ident] = sent
            return httpx.Response(
                202, json={"id": ident, "status": "pending", "pending_count": len(sent)}
            )
        ident = path.rstrip("/").rsplit("/", 1)[1]
        polls["n"] += 1
        done = polls["n"] % 2 == 0  # complete on the second poll of each
        sent = statuses[ident]
        status = {"id": ident, "status": "complete" if done else "pending"}
        if done:
            status |= {"success_count": len(sent), "failure_count": 0}
        return httpx.Response(200, json=status)

    accepted, refused = push(
        factory,
        collection="inbox",
        remote=Remote(URL),
        recipient=Recipient("green"),
        transport=httpx.MockTransport(server),
        poll_seconds=0.001,
    )
    assert accepted == 20 and refused == 1  # the 5 kB object cannot be sent at all
    assert len(posts) > 1 and max(posts) <= limit
