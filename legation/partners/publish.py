"""Publish our incidents into a TAXII collection as STIX 2.1, as its policy says.

A collection's policy (JSON) may hold ``max_tlp`` (the ceiling of what goes in),
``default_tlp`` (the marking of our incidents), ``countries`` and ``types`` (filters), and
``sightings`` (true: also say at which of our sites an incident raised an alert, as STIX
sightings; off by default, since it names our missions).
``within_km`` keeps only incidents within that many kilometres of one of our sites (an
incident without coordinates is left out: its distance is unknown).
Re-publishing an unchanged incident stores nothing new; a changed one becomes a new version,
and so does one whose marking changed (``_remark``): the latest version always carries the
level the incident has now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from legation.domain.clock import as_utc
from legation.domain.geo import distance_km
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
    TLP2_IDS,
    all_marking_definitions,
    level_rank,
    object_level,
    parse_level,
)
from legation.storage import taxii as store
from legation.storage.incidents import incident_reports
from legation.storage.sharing_tables import StixObjectRow
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
    near = _near_sites(session, policy)
    if near is not None:
        query = query.where(IncidentRow.lat.is_not(None), IncidentRow.lon.is_not(None))
    identity = producer_identity(producer)
    objects = [*all_marking_definitions(), identity, extension_definition(identity["id"])]
    incidents = []
    for incident in session.scalars(query):
        if near is not None and not near(incident.lat, incident.lon):
            continue
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
    objects += _remark(session, row.id, objects, tlp)
    new = [_new(obj, tlp) for obj in objects]
    results = store.add_objects(session, collection_id=row.id, objects=new, source="local")
    return len(incidents), sum(1 for *_rest, message in results if message == "added")


def _near_sites(
    session: Session, policy: Mapping[str, Any]
) -> Callable[[float | None, float | None], bool] | None:
    """The policy's ``within_km`` test (is a point that near one of our sites?), or None."""
    radius = policy.get("within_km")
    if radius is None:
        return None
    if isinstance(radius, bool) or not isinstance(radius, int | float) or not radius > 0:
        raise InputError(f"collection policy within_km {radius!r}: give a positive number of km")
    located = select(SiteRow.lat, SiteRow.lon).where(
        SiteRow.lat.is_not(None), SiteRow.lon.is_not(None)
    )
    sites = [
        (float(lat), float(lon))
        for lat, lon in session.execute(located)
        if lat is not None and lon is not None
    ]

    def near(lat: float | None, lon: float | None) -> bool:
        if lat is None or lon is None:
            return False
        return any(distance_km(lat, lon, s_lat, s_lon) <= radius for s_lat, s_lon in sites)

    return near


def _remark(
    session: Session, collection_id: str, objects: list[dict[str, Any]], tlp: str
) -> list[dict[str, Any]]:
    """Give a new version to objects whose level changed since their latest stored version.

    An incident keeps its ``modified`` when only its level changes (a source's TLP was raised
    or lowered in ``LEGATION_SHARING_SOURCE_TLP``, or the collection's ``default_tlp``): its
    export would be "already present" and the latest version would keep the old marking. Such
    an object (incident, report, sighting: ids that do not depend on the level) gets
    ``modified`` just after its latest stored version, so the new marking is the latest;
    a stricter latest hides the object from partners below it in the default view. (We
    mark our objects with one TLP marking and no granular ones, so the stored level, a
    column, tells whether the marking changed; no body is read.)

    Our relationships and sightings from an incident whose level rose, left over from the
    earlier export (objects of the old level have ids of their own), get a new version at
    the incident's level, so that no partner below it keeps a latest reference to it.
    Returns the extra objects (re-marked leftovers); the others are changed in place.
    """
    newest: dict[str, dict[str, Any]] = {}
    for obj in objects:
        if obj["type"] == "marking-definition":
            continue
        known = newest.get(obj["id"])
        if known is None or store.version_of(obj) >= store.version_of(known):
            newest[obj["id"]] = obj
    latest = _latest_local(session, collection_id, sorted(newest))
    raised: dict[str, str] = {}
    for stix_id, obj in newest.items():
        if stix_id not in latest:
            continue
        version, stored = latest[stix_id]
        level = object_level(obj, tlp)
        if LEVELS.index(level) == stored or store.version_of(obj) > version:
            continue  # the same level, or a new version anyway
        obj["modified"] = _after(version)
        if obj["type"] == "incident" and LEVELS.index(level) > stored:
            raised[stix_id] = level
    return _leftovers(session, collection_id, raised, set(newest)) if raised else []


def _after(version: str) -> str:
    """A ``modified`` later than ``version`` (a stored one) and than now."""
    return store.format_us(max(store.now_us(), store.parse_timestamp(version) + 1))


def _latest_local(
    session: Session, collection_id: str, ids: list[str]
) -> dict[str, tuple[str, int]]:
    """The version and level (index in LEVELS) of our latest version of each of ``ids``."""
    out: dict[str, tuple[str, int]] = {}
    for start in range(0, len(ids), 500):
        query = select(StixObjectRow.stix_id, StixObjectRow.version, StixObjectRow.tlp).where(
            StixObjectRow.collection_id == collection_id,
            StixObjectRow.stix_id.in_(ids[start : start + 500]),
            StixObjectRow.latest.is_(True),
            StixObjectRow.source == "local",
        )
        out.update((stix_id, (version, tlp)) for stix_id, version, tlp in session.execute(query))
    return out


def _leftovers(
    session: Session, collection_id: str, raised: Mapping[str, str], current: set[str]
) -> list[dict[str, Any]]:
    """New versions, at the incident's new level, of our latest relationships and sightings
    from an incident in ``raised`` (id -> level) that this export no longer holds."""
    top = max(LEVELS.index(level) for level in raised.values())
    query = select(StixObjectRow.body).where(
        StixObjectRow.collection_id == collection_id,
        StixObjectRow.type.in_(("relationship", "sighting")),
        StixObjectRow.latest.is_(True),
        StixObjectRow.source == "local",
        StixObjectRow.tlp < top,
    )
    out = []
    for body in session.scalars(query):
        ref = body.get("source_ref") or body.get("sighting_of_ref")
        level = raised.get(ref) if isinstance(ref, str) else None
        if level is None or body["id"] in current:
            continue
        if level_rank(object_level(body, "red")) >= level_rank(level):
            continue
        out.append(
            {
                **body,
                "object_marking_refs": [TLP2_IDS[level]],
                "modified": _after(store.version_of(body)),
            }
        )
    return out


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
