"""date_added stays strictly increasing within a collection when two adds run at once: the
second one waits for the first one's lock and must then see the first one's objects."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from legation.partners.intake import check_objects
from legation.storage import taxii as store
from legation.storage.db import transaction
from legation.storage.partners import get_partner
from legation.storage.sharing_tables import StixObjectRow
from tests.taxii_fixtures import make_setup, note


def test_concurrent_adds_keep_date_added_strictly_increasing(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = make_setup(factory)
    with transaction(factory) as session:
        writer = get_partner(session, name="writer").id
    # a clock that does not move (or was stepped back): only the stored newest orders adds
    monkeypatch.setattr(store, "now_us", lambda: 1_000_000)
    first_added = threading.Event()
    errors: list[BaseException] = []

    def add(numbers: list[int], hold: float, via_api: bool) -> None:
        try:
            with transaction(factory) as session:
                objects = check_objects([note(n) for n in numbers], {})[0]
                if via_api:  # the path of a partner's POST
                    lock = store.collection_for_add(
                        session, partner_id=writer, ident=setup.collection
                    )[2]
                else:
                    lock = store._lock_collection(session, setup.collection)
                store.add_objects(
                    session,
                    collection_id=setup.collection,
                    objects=objects,
                    source="local",
                    lock=lock,
                )
                if hold:
                    first_added.set()
                    time.sleep(hold)  # the other add is waiting for the lock meanwhile
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    for via_api, base in ((False, 0), (True, 100)):
        first_added.clear()
        holder = threading.Thread(target=add, args=([base + 1, base + 2, base + 3], 0.5, via_api))
        holder.start()
        assert first_added.wait(10)
        add([base + 4, base + 5, base + 6], 0, via_api)
        holder.join()
    assert not errors, errors
    with transaction(factory) as session:
        stamps = session.scalars(
            select(StixObjectRow.added_us)
            .where(StixObjectRow.collection_id == setup.collection)
            .order_by(StixObjectRow.seq)
        ).all()
    assert len(stamps) == 12
    assert all(a < b for a, b in itertools.pairwise(stamps)), stamps
