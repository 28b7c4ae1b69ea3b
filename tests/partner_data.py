"""Rows for the Partners pages' tests: two partners (one named hostilely), collections, sync."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from legation.domain.clock import utcnow
from legation.storage.partners import add_partner, pull_state
from legation.storage.taxii import create_collection, grant, save_status, to_us

HOSTILE_NAME = '<script>alert("p")</script>Evil "partner"'
HOSTILE_ORG = "identity--<img src=x onerror=alert(5)>"
PULLED_URL = "https://taxii.example.org/api1/collections/abc/?q=<b>x</b>"


def add_partner_data(session: Session) -> dict[str, object]:
    """Partners, collections, grants, two add requests and a pull state; returns their ids."""
    friend, _ = add_partner(
        session, name="friendly-cert", clearance="amber", organisation="identity--1"
    )
    hostile, _ = add_partner(
        session, name=HOSTILE_NAME, clearance="green", organisation=HOSTILE_ORG
    )
    turkey = create_collection(
        session,
        title="Incidents in Türkiye",
        alias="tr-incidents",
        description="",
        policy={"max_tlp": "amber", "default_tlp": "green", "countries": ["TR"]},
    )
    inbox = create_collection(
        session,
        title="Received from <i>friends</i>",
        alias="from-friendly-cert",
        description="",
        policy={"max_tlp": "red", "default_tlp": "amber"},
    )
    grant(session, partner_id=friend.id, collection_id=turkey.id, read=True, write=False)
    grant(session, partner_id=friend.id, collection_id=inbox.id, read=True, write=True)
    grant(session, partner_id=hostile.id, collection_id=turkey.id, read=True, write=False)
    before = utcnow() - timedelta(hours=3)
    for minutes, ok, bad in ((0, 1, 0), (30, 2, 1)):
        save_status(
            session,
            collection_id=inbox.id,
            partner="friendly-cert",
            request_us=to_us(before + timedelta(minutes=minutes)),
            successes=[{"id": f"indicator--{i}"} for i in range(ok)],
            failures=[{"id": "x", "message": "bad"}] * bad,
        )
    state = pull_state(session, partner="friendly-cert", collection_url=PULLED_URL)
    state.added_after = "2026-11-29T10:00:00.123455Z"
    state.objects, state.pages = 1234, 3
    return {
        "friend": friend.id,
        "hostile": hostile.id,
        "turkey": turkey.id,
        "inbox": inbox.id,
    }
