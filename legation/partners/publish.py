"""Publish our incidents into a TAXII collection as STIX 2.1, as its policy says.

A collection's policy (JSON) may hold ``max_tlp`` (the ceiling of what goes in),
``default_tlp`` (the marking of our incidents), ``countries`` and ``types`` (filters), and
``sightings`` (true: also say at which of our sites an incident raised an alert, as STIX
sightings; off by default, since it names our missions).
Re-publishing an unchanged incident stores nothing new; a changed one becomes a new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from legation.domain.clock import as_utc
from legation.errors import InputError
from legation.sharing.model import SharedIncident, SharedPlace, SharedReport, SharedSite
from legation.sharing.stix import (
    extension_definition,
    incident_to_stix,
    producer_identity,
    sighting_to_stix,
)
from legation.sharing.tlp import (
    LEVELS,
    all_marking_definitions,
    level_rank,
    object_level,
    parse_level,
)
from legation.storage import taxii as store
from legation.storage.incidents import incident_reports
from legation.storage.tables import AlertRow, IncidentRow, SiteRow


def shared_incident(session: Session, row: IncidentRow, tlp: str) -> SharedIncident:
    """The shareable view of a stored incident, with its source reports."""
    place = None
    if row.place_name or row.lat is not None:
        place = SharedPlace(row.place_name or "", row.country, row.lat, row.lon)
    reports = tuple(
        SharedReport(
            title=(report.title or report.text[:80]).strip() or f"report {report.id}",
            url=report.url,
            source=report.source,
            published=as_utc(report.published or report.received_at),
        )
        for report, _extraction in incident_reports(session, incident_id=row.id)
    )
    return SharedIncident(
        key=f"incident/{row.id}",
        type=row.type,
        weapon=row.weapon,
        date=row.date,
        place=place,
        killed=row.killed,
        injured=row.injured,
        target_categories=tuple(row.target_categories),
        target_states=tuple(row.target_states),
        perpetrators=tuple(dict.fromkeys([*row.perpetrators, *row.organizations])),
        reports=reports,
        confidence=row.confidence,
        created=as_utc(row.created_at),
        modified=as_utc(row.updated_at),
        tlp=tlp,
    )


def publish_incidents(
    session: Session,
    *,
    collection: str,
    producer: str,
    source_tlp: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """Export the incidents the policy selects; returns (incidents, new object versions).

    An incident is marked with the collection's ``default_tlp``, or more restrictively when
    ``source_tlp`` (source name -> TLP level) gives one of its reports' sources a higher
    level; an incident whose level is above the collection's ``max_tlp`` is left out.
    """
    row = store.find_collection(session, ident=collection)
    policy: dict[str, Any] = row.policy
    tlp = policy.get("default_tlp", "amber")
    ceiling = level_rank(policy.get("max_tlp", "amber+strict"))
    for source, level in (source_tlp or {}).items():
        try:
            level_rank(level)
        except InputError as exc:
            raise InputError(f"sharing_source_tlp[{source!r}]: {exc}") from None
    if level_rank(tlp) > ceiling:
        return 0, 0
    query = select(IncidentRow).order_by(IncidentRow.id)
    if policy.get("countries"):
        query = query.where(IncidentRow.country.in_(policy["countries"]))
    if policy.get("types"):
        query = query.where(IncidentRow.type.in_(policy["types"]))
    identity = producer_identity(producer)
    objects = [*all_marking_definitions(), identity, extension_definition(identity["id"])]
    incidents = []
    for incident in session.scalars(query):
        shared = shared_incident(session, incident, tlp)
        levels = [tlp, *((source_tlp or {}).get(r.source, tlp) for r in shared.reports)]
        level = max(levels, key=level_rank)
        if level_rank(level) > ceiling:
            continue
        shared = replace(shared, tlp=parse_level(level))
        incidents.append(incident)
        objects += incident_to_stix(shared, identity["id"])
        if policy.get("sightings"):
            for site in _alerted_sites(session, incident.id):
                objects += sighting_to_stix(shared, site, identity["id"])
    new = [_new(obj, tlp) for obj in objects]
    results = store.add_objects(session, collection_id=row.id, objects=new, source="local")
    return len(incidents), sum(1 for *_rest, message in results if message == "added")


def _alerted_sites(session: Session, incident_id: int) -> list[SharedSite]:
    alerted = select(AlertRow.site_id).where(AlertRow.incident_id == incident_id)
    query = select(SiteRow).where(SiteRow.id.in_(alerted)).order_by(SiteRow.id)
    return [
        SharedSite(
            row.key,
            row.name,
            row.type,
            row.operator_code,
            row.country_code,
            row.city,
            row.lat,
            row.lon,
        )
        for row in session.scalars(query)
    ]


def _new(obj: dict[str, Any], tlp: str) -> store.NewObject:
    level = "clear" if obj["type"] == "marking-definition" else object_level(obj, tlp)
    assert level in LEVELS
    return store.NewObject(obj, level, store.version_of(obj))
