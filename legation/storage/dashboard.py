"""Read models for the dashboard: the map's points, the inbox, and a site's or incident's page."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from legation.domain.clock import as_utc
from legation.domain.vocab import threat_model
from legation.storage.tables import (
    AlertRow,
    AppearanceRow,
    IncidentRow,
    LevelHistoryRow,
    PersonRow,
    SiteRow,
    StaffRow,
)
from legation.storage.users import AlertAssignmentRow

INBOX_STATES = ("new", "escalated", "acknowledged")


def map_points(session: Session) -> dict[str, Any]:
    """Every located site and incident as parallel columns (small to send, fast to filter)."""
    sites = session.execute(
        select(
            SiteRow.key,
            SiteRow.name,
            SiteRow.lat,
            SiteRow.lon,
            SiteRow.level,
            SiteRow.country_code,
        )
        .where(SiteRow.lat.is_not(None), SiteRow.lon.is_not(None))
        .order_by(SiteRow.level, SiteRow.id)
    ).all()
    incidents = session.execute(
        select(
            IncidentRow.id,
            IncidentRow.type,
            IncidentRow.date,
            IncidentRow.lat,
            IncidentRow.lon,
            IncidentRow.country,
            IncidentRow.place_name,
        )
        .where(IncidentRow.lat.is_not(None), IncidentRow.lon.is_not(None))
        .order_by(IncidentRow.date, IncidentRow.id)
    ).all()
    return {
        "sites": _columns(sites, ("key", "name", "lat", "lon", "level", "country")),
        "incidents": _columns(
            [
                (i, t, d.isoformat() if d else None, la, lo, c, p)
                for i, t, d, la, lo, c, p in incidents
            ],
            ("id", "type", "date", "lat", "lon", "country", "place"),
        ),
    }


def _columns(rows: Any, names: tuple[str, ...]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {name: [] for name in names}
    for row in rows:
        for name, value in zip(names, row, strict=True):
            out[name].append(value)
    return out


def latest_incident_date(session: Session, *, not_after: date) -> date | None:
    """The newest incident date up to ``not_after`` (a misread future date moves nothing)."""
    query = select(func.max(IncidentRow.date)).where(IncidentRow.date <= not_after)
    found: date | None = session.scalar(query)
    return found


def threatened_sites(session: Session, *, min_level: int = 2, limit: int = 50) -> list[SiteRow]:
    """The most threatened sites, highest level and score first."""
    query = (
        select(SiteRow)
        .where(SiteRow.level >= min_level)
        .order_by(SiteRow.level.desc(), SiteRow.score.desc(), SiteRow.key)
        .limit(limit)
    )
    return list(session.scalars(query))


def latest_incidents(session: Session, *, not_after: date, limit: int = 15) -> list[IncidentRow]:
    """The newest incidents up to ``not_after``, newest first."""
    query = (
        select(IncidentRow)
        .where(IncidentRow.date <= not_after)
        .order_by(IncidentRow.date.desc(), IncidentRow.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def site_countries(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every host country with a site, by name."""
    rows = session.execute(
        select(SiteRow.country_code, func.min(SiteRow.country))
        .where(SiteRow.country_code.is_not(None))
        .group_by(SiteRow.country_code)
        .order_by(func.min(SiteRow.country))
    ).all()
    return [(str(code), str(name)) for code, name in rows]


def inbox(
    session: Session,
    *,
    state: str | None,
    newest_first: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Alerts with their site and assignee, highest level then newest first (or newest first).

    ``state`` None means the open ones (new and escalated).
    """
    query = (
        select(AlertRow, SiteRow.key, SiteRow.name, AlertAssignmentRow.assignee)
        .outerjoin(SiteRow, SiteRow.id == AlertRow.site_id)
        .outerjoin(AlertAssignmentRow, AlertAssignmentRow.alert_id == AlertRow.id)
        .order_by(*(() if newest_first else (AlertRow.level.desc(),)), AlertRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if state:
        query = query.where(AlertRow.state == state)
    else:
        query = query.where(AlertRow.state.in_(("new", "escalated")))
    return [
        {
            "id": a.id,
            "level": a.level,
            "title": a.title,
            "body": a.body,
            "state": a.state,
            "escalations": a.escalations,
            "created_at": as_utc(a.created_at),
            "acknowledged_by": a.acknowledged_by,
            "note": a.note,
            "incident_id": a.incident_id,
            "site_key": key,
            "site_name": name,
            "assignee": assignee,
        }
        for a, key, name, assignee in session.execute(query)
    ]


def alert_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(AlertRow.state, func.count()).group_by(AlertRow.state)).all()
    return {str(state): int(count) for state, count in rows}


def alert_stamp(session: Session) -> str:
    """Changes whenever an alert is added, changes state (escalated, acknowledged by anyone) or
    is assigned: the count, the latest change and the latest assignment."""
    count, changed = session.execute(select(func.count(), func.max(AlertRow.updated_at))).one()
    assigned = session.scalar(select(func.max(AlertAssignmentRow.assigned_at)))
    parts = [str(count), as_utc(changed).isoformat() if changed else "-"]
    parts.append(as_utc(assigned).isoformat() if assigned else "-")
    return "|".join(parts)


def newest_alert_id(session: Session) -> int:
    return int(session.scalar(select(func.max(AlertRow.id))) or 0)


def level_history(session: Session, *, site_id: int) -> list[LevelHistoryRow]:
    query = select(LevelHistoryRow).where(LevelHistoryRow.site_id == site_id)
    return list(session.scalars(query.order_by(LevelHistoryRow.as_of)))


def site_staff(session: Session, *, site_id: int) -> list[StaffRow]:
    query = select(StaffRow).where(StaffRow.site_id == site_id).order_by(StaffRow.name)
    return list(session.scalars(query))


def incidents_by_id(session: Session, *, ids: list[int]) -> dict[int, IncidentRow]:
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(select(IncidentRow).where(IncidentRow.id.in_(ids)))}


def sites_affected(session: Session, *, incident_id: int) -> list[SiteRow]:
    """Sites whose current level counts this incident among its reasons.

    Only the sites the assessment could have reached are read: those in the incident's
    country, or within the proximity cutoff in latitude (the ix_sites_lat_lon index) - the
    same cheap test the assessment makes before measuring a distance."""
    incident = session.get(IncidentRow, incident_id)
    if incident is None:
        return []
    reach = []
    if incident.country:
        reach.append(SiteRow.country_code == incident.country)
    if incident.lat is not None:
        band = threat_model().proximity.cutoff_km / 111.0
        reach.append(SiteRow.lat.between(incident.lat - band, incident.lat + band))
    if not reach:
        return []
    threatened = session.scalars(
        select(SiteRow)
        .where(SiteRow.level >= 2, or_(*reach))
        .order_by(SiteRow.level.desc(), SiteRow.key)
    )
    return [s for s in threatened if any(r.get("incident_id") == incident_id for r in s.reasons)]


def appearances(
    session: Session, *, site_id: int | None = None, limit: int = 200
) -> list[tuple[AppearanceRow, PersonRow]]:
    """Appearances with their person, latest start first (the planned ones above the past);
    only those of a site's persons if given."""
    query = select(AppearanceRow, PersonRow).join(
        PersonRow, PersonRow.id == AppearanceRow.person_id
    )
    if site_id is not None:
        query = query.where(PersonRow.site_id == site_id)
    query = query.order_by(AppearanceRow.starts_at.desc()).limit(limit)
    return [(a, p) for a, p in session.execute(query)]


def persons(session: Session) -> list[PersonRow]:
    return list(session.scalars(select(PersonRow).order_by(PersonRow.name)))
