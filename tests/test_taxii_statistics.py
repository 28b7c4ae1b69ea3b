"""PostgreSQL gets planner statistics on the objects table right after a bulk add.

Without them the planner sorted a whole collection for a first page (70 ms and more at
50,000 objects) until autovacuum got round to it; ``storage.taxii`` now runs ANALYZE once
the table has doubled on disk since the planner last looked.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from legation.partners.intake import check_objects
from legation.storage import taxii as store
from legation.storage.db import transaction
from tests.taxii_fixtures import note


def relpages(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        query = "SELECT relpages FROM pg_class WHERE oid = 'taxii_objects'::regclass"
        return int(session.execute(text(query)).scalar_one())


def test_a_bulk_add_leaves_the_planner_statistics(
    factory: sessionmaker[Session], database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite's planner takes the order index without them")
    with transaction(factory) as session:
        collection = store.create_collection(
            session, title="t", alias="t", description="", policy={"max_tlp": "red"}
        ).id
    assert relpages(factory) == 0  # a new table: the planner knows nothing yet
    accepted, failures = check_objects([note(i, content="x" * 300) for i in range(600)], {})
    assert not failures
    with transaction(factory) as session:
        store.add_objects(session, collection_id=collection, objects=accepted[:300], source="local")
    with transaction(factory) as session:  # this add sees the table grown and analyses it
        store.add_objects(session, collection_id=collection, objects=accepted[300:], source="local")
    assert relpages(factory) > 16
