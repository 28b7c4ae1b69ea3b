"""A push does not send the five official TLP marking definitions: every TAXII 2.1 server
knows them, and ours (like others) refuses them from partners."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session, sessionmaker

from legation.partners.client import Remote, push
from legation.sharing.tlp import LEVEL_OF_ID, Recipient, all_marking_definitions
from legation.storage import taxii as store
from legation.storage.db import transaction
from tests.http_fixture import Answer, LocalServer, Seen
from tests.taxii_fixtures import TAXII, note


def test_push_leaves_the_tlp_definitions_out(
    local_server: LocalServer, factory: sessionmaker[Session]
) -> None:
    with transaction(factory) as session:
        policy = {"max_tlp": "amber+strict", "default_tlp": "green"}
        outbox = store.create_collection(
            session, title="outbox", alias="outbox", description="", policy=policy
        ).id
        objects = [
            *(store.NewObject(m, "clear", store.version_of(m)) for m in all_marking_definitions()),
            *(store.NewObject(note(n), "green", store.version_of(note(n))) for n in range(3)),
        ]
        store.add_objects(session, collection_id=outbox, objects=objects, source="local")
    sent: list[dict[str, object]] = []

    def receive(seen: Seen) -> Answer:
        batch = json.loads(seen.body)["objects"]
        sent.extend(batch)
        status = {"id": "s1", "status": "complete", "success_count": len(batch)}
        return Answer(200, json.dumps(status).encode(), {"Content-Type": TAXII})

    root = {"title": "r", "versions": [TAXII], "max_content_length": 1_000_000}
    local_server.routes["/root/"] = lambda _seen: Answer(
        200, json.dumps(root).encode(), {"Content-Type": TAXII}
    )
    local_server.routes["/root/collections/c/objects/"] = receive
    remote = Remote(local_server.url("/root/collections/c/"))
    accepted, refused = push(
        factory, collection="outbox", remote=remote, recipient=Recipient("green")
    )
    assert (accepted, refused) == (3, 0)
    assert sorted(o["id"] for o in sent) == sorted(note(n)["id"] for n in range(3))
    assert not any(o["id"] in LEVEL_OF_ID for o in sent)
