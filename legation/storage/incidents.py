"""Extractions and incidents: storing, merging, and reading summaries for fusion and assessment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from legation.domain.clock import utcnow
from legation.domain.geo import bounding_box, covering_boxes
from legation.domain.models import Evidence, Extraction, IncidentSummary
from legation.errors import NotFoundError
from legation.extract.contract import place_json, values
from legation.storage.tables import ExtractionRow, IncidentRow, ReportRow


def _evidence(item: Evidence | None) -> dict[str, Any] | None:
    if item is None:
        return None
    span = item.span
    where = None if span is None else {"start": span.start, "end": span.end, "text": span.text}
    return {"value": item.value, "confidence": item.confidence, "span": where}


def extraction_to_json(extraction: Extraction) -> dict[str, Any]:
    """The extraction as stored: every field with its confidence and text span."""
    e = extraction
    return {
        "language": e.language,
        "is_incident": e.is_incident,
        "confidence": e.confidence,
        "type": _evidence(e.type),
        "weapon": _evidence(e.weapon),
        "date": e.date.isoformat() if e.date else None,
        "date_evidence": _evidence(e.date_evidence),
        "place": place_json(e.place),
        "place_evidence": _evidence(e.place_evidence),
        "perpetrator_individuals": [_evidence(x) for x in e.perpetrator_individuals],
        "perpetrator_organizations": [_evidence(x) for x in e.perpetrator_organizations],
        "human_targets": [_evidence(x) for x in e.human_targets],
        "physical_targets": [_evidence(x) for x in e.physical_targets],
        "target_categories": [_evidence(x) for x in e.target_categories],
        "target_states": list(e.target_states),
        "killed": _evidence(e.killed),
        "injured": _evidence(e.injured),
    }


def summary_of_extraction(extraction: Extraction, incident_id: int = 0) -> IncidentSummary:
    place = extraction.place
    names = [e.value for e in (*extraction.human_targets, *extraction.perpetrator_individuals)]
    return IncidentSummary(
        id=incident_id,
        type=extraction.type_name,
        date=extraction.date,
        lat=place.lat if place else None,
        lon=place.lon if place else None,
        country=place.country if place else None,
        killed=extraction.killed_count,
        injured=extraction.injured_count,
        target_categories=tuple(e.value for e in extraction.target_categories),
        target_states=tuple(extraction.target_states),
        names=tuple(names),
    )


def summary_of_row(row: IncidentRow) -> IncidentSummary:
    return IncidentSummary(
        id=row.id,
        type=row.type,
        date=row.date,
        lat=row.lat,
        lon=row.lon,
        country=row.country,
        killed=row.killed,
        injured=row.injured,
        target_categories=tuple(row.target_categories),
        target_states=tuple(row.target_states),
        names=tuple([*row.victims, *row.perpetrators]),
    )


def save_extraction(session: Session, *, report_id: int, extraction: Extraction) -> ExtractionRow:
    row = ExtractionRow(
        report_id=report_id,
        is_incident=extraction.is_incident,
        confidence=extraction.confidence,
        language=extraction.language,
        data=extraction_to_json(extraction),
        created_at=utcnow(),
    )
    session.add(row)
    return row


def candidate_incidents(
    session: Session, *, around: Sequence[IncidentSummary], days: int, radius_km: float
) -> list[IncidentRow]:
    """Stored incidents that could be the same event as any of ``around``: within ``days``
    and in the same country or within ``radius_km``. One query for a whole batch."""
    clauses = [_candidate_clause(s, days, radius_km) for s in around]
    if not clauses:
        return []
    return list(session.scalars(select(IncidentRow).where(or_(*clauses))))


def _candidate_clause(summary: IncidentSummary, days: int, radius_km: float) -> ColumnElement[bool]:
    place: list[ColumnElement[bool]] = []
    if summary.lat is not None and summary.lon is not None:
        lat0, lat1, lon0, lon1 = bounding_box(summary.lat, summary.lon, radius_km)
        place.append(IncidentRow.lat.between(lat0, lat1) & IncidentRow.lon.between(lon0, lon1))
    if summary.country:
        place.append(IncidentRow.country == summary.country)
    clause = or_(*place) if place else IncidentRow.country.is_(None)
    if summary.date is not None:
        window = (summary.date - timedelta(days=days), summary.date + timedelta(days=days))
        clause = and_(IncidentRow.date.between(*window), clause)
    return clause


def new_incident(extraction: Extraction) -> IncidentRow:
    """An incident row for an extraction (the caller adds it to the session)."""
    now = utcnow()
    place = extraction.place
    row = IncidentRow(
        type=extraction.type_name,
        weapon=extraction.weapon_name,
        date=extraction.date,
        place_name=place.name if place else None,
        country=place.country if place else None,
        lat=place.lat if place else None,
        lon=place.lon if place else None,
        precision=place.precision if place else None,
        killed=extraction.killed_count,
        injured=extraction.injured_count,
        target_categories=[e.value for e in extraction.target_categories],
        target_states=list(extraction.target_states),
        victims=values(extraction.human_targets),
        perpetrators=values(extraction.perpetrator_individuals),
        organizations=values(extraction.perpetrator_organizations),
        confidence=extraction.confidence,
        created_at=now,
        updated_at=now,
    )
    return row


def merge_into(row: IncidentRow, extraction: Extraction) -> None:
    """Fold a further report into an incident: counts take the maximum, lists the union."""
    row.killed = max(row.killed, extraction.killed_count)
    row.injured = max(row.injured, extraction.injured_count)
    row.target_categories = _union(
        row.target_categories, [e.value for e in extraction.target_categories]
    )
    row.target_states = _union(row.target_states, extraction.target_states)
    row.victims = _union(row.victims, values(extraction.human_targets))
    row.perpetrators = _union(row.perpetrators, values(extraction.perpetrator_individuals))
    row.organizations = _union(row.organizations, values(extraction.perpetrator_organizations))
    place = extraction.place
    if place is not None and (row.lat is None or _finer(place.precision, row.precision)):
        row.place_name, row.country, row.lat, row.lon = (
            place.name,
            place.country,
            place.lat,
            place.lon,
        )
        row.precision = place.precision
    if row.weapon == "unknown" and extraction.weapon is not None:
        row.weapon = extraction.weapon.value
    row.confidence = min(1.0, max(row.confidence, extraction.confidence) + 0.05)
    row.updated_at = utcnow()


def _finer(new: str, old: str | None) -> bool:
    order = {"country": 0, "admin1": 1, "admin2": 2, "city": 3, "point": 4}
    return order.get(new, 0) > order.get(old or "country", 0)


def _union(old: list[Any], new: list[Any]) -> list[Any]:
    return list(dict.fromkeys([*old, *new]))


def incidents_for_assessment(
    session: Session,
    *,
    since: date,
    points: Sequence[tuple[float | None, float | None]],
    radius_km: float,
    countries: Sequence[str],
) -> list[IncidentRow]:
    """Incidents since a date near any of the points or in the given countries."""
    clauses: list[ColumnElement[bool]] = []
    located = [(lat, lon) for lat, lon in points if lat is not None and lon is not None]
    for lat0, lat1, lon0, lon1 in covering_boxes(located, radius_km):
        clauses.append(IncidentRow.lat.between(lat0, lat1) & IncidentRow.lon.between(lon0, lon1))
    if countries:
        clauses.append(IncidentRow.country.in_(sorted(set(countries))))
    if not clauses:
        return []
    query = select(IncidentRow).where(IncidentRow.date >= since, or_(*clauses))
    return list(session.scalars(query))


def get_incident(session: Session, *, incident_id: int) -> IncidentRow:
    row = session.get(IncidentRow, incident_id)
    if row is None:
        raise NotFoundError(f"incident {incident_id} does not exist")
    return row


def incident_reports(
    session: Session, *, incident_id: int
) -> list[tuple[ReportRow, ExtractionRow]]:
    query = (
        select(ReportRow, ExtractionRow)
        .join(ExtractionRow, ExtractionRow.report_id == ReportRow.id)
        .where(ExtractionRow.incident_id == incident_id)
        .order_by(ReportRow.id)
    )
    return [(r, e) for r, e in session.execute(query)]


def incident_dict(row: IncidentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "weapon": row.weapon,
        "date": row.date.isoformat() if row.date else None,
        "place": {
            "name": row.place_name,
            "country": row.country,
            "lat": row.lat,
            "lon": row.lon,
            "precision": row.precision,
        },
        "target_categories": row.target_categories,
        "target_states": row.target_states,
        "victims": row.victims,
        "perpetrators": row.perpetrators,
        "organizations": row.organizations,
        "killed": row.killed,
        "injured": row.injured,
        "confidence": row.confidence,
    }
