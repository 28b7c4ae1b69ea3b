"""Shared set-up for the TAXII tests: a collection, partners with keys and logins, objects."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from legation.sharing.stix import stix_id
from legation.sharing.tlp import TLP2_IDS
from legation.storage.db import transaction
from legation.storage.partners import add_partner
from legation.storage.taxii import create_collection, grant

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/legation"
OWNER_ORG = stix_id("identity", "partner/writer")
OTHER_ORG = stix_id("identity", "partner/other")


@dataclass
class Setup:
    collection: str
    alias: str
    reader_key: str
    writer_key: str
    reader_login: tuple[str, str]
    writer_login: tuple[str, str]
    hidden: str


def h(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept": TAXII, **extra}


def post(client: TestClient, setup: Setup, objects: list[Any], key: str | None = None) -> Any:
    """Add Objects to the shared collection; the status it answers with (202)."""
    answer = client.post(
        f"{ROOT}/collections/{setup.collection}/objects/",
        content=json.dumps({"objects": objects}),
        headers=h(key or setup.writer_key, **{"Content-Type": TAXII}),
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["content-type"] == TAXII
    return answer.json()


def make_setup(factory: sessionmaker[Session]) -> Setup:
    with transaction(factory) as session:
        policy = {"max_tlp": "amber+strict", "default_tlp": "green"}
        shared = create_collection(
            session,
            title="Incidents",
            alias="incidents",
            description="near missions",
            policy=policy,
        )
        hidden = create_collection(
            session, title="Internal", alias="internal", description="", policy=policy
        )
        reader, reader_key = add_partner(
            session,
            name="reader",
            clearance="green",
            organisation=OTHER_ORG,
            username="reader",
            password="reader-pass",
        )
        writer, writer_key = add_partner(
            session,
            name="writer",
            clearance="amber+strict",
            organisation=OWNER_ORG,
            username="writer",
            password="writer-pass",
        )
        grant(session, partner_id=reader.id, collection_id=shared.id, read=True, write=False)
        grant(session, partner_id=writer.id, collection_id=shared.id, read=True, write=True)
        return Setup(
            shared.id,
            "incidents",
            reader_key,
            writer_key,
            ("reader", "reader-pass"),
            ("writer", "writer-pass"),
            hidden.id,
        )


def note(
    n: int,
    tlp: str | None = "green",
    *,
    modified: str = "2024-01-01T00:00:00.000Z",
    owner: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--{uuid.uuid5(uuid.NAMESPACE_URL, f'note/{n}')}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": modified,
        "content": f"note {n}",
        "object_refs": [stix_id("incident", str(n))],
        **extra,
    }
    if tlp:
        obj["object_marking_refs"] = [TLP2_IDS[tlp]]
    if owner:
        obj["created_by_ref"] = owner
    return obj
