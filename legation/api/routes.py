"""API routes: registry, reports, incidents, levels, appearances, alerts, rules, keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from legation.alerting.channels import CHANNEL_KINDS
from legation.alerting.service import alert_dict, set_alert_state
from legation.api.deps import Admin, Analyst, SessionDep, SettingsDep, Viewer
from legation.api.schemas import (
    AlertStateIn,
    AppearanceIn,
    ChannelIn,
    KeyIn,
    PersonIn,
    ReportIn,
    RuleIn,
    SiteIn,
    StaffIn,
)
from legation.assess.levels import Target, assess
from legation.domain.clock import as_utc, utcnow
from legation.domain.countries import country_code
from legation.domain.models import ReportInput, Site
from legation.domain.vocab import INCIDENT_TYPES, threat_model
from legation.errors import InputError, NotFoundError
from legation.pipeline.worker import store_appearance
from legation.storage.incidents import (
    get_incident,
    incident_dict,
    incident_reports,
    summary_of_row,
)
from legation.storage.keys import create_key
from legation.storage.queue import queue_counts
from legation.storage.reports import add_report
from legation.storage.sites import get_site, site_dict, upsert_sites
from legation.storage.tables import (
    AlertRow,
    AppearanceRow,
    ChannelRow,
    IncidentRow,
    LevelHistoryRow,
    PersonRow,
    ReportRow,
    RuleRow,
    SiteRow,
    StaffRow,
)

router = APIRouter()
Limit = Query(100, ge=1, le=1000)


@router.get("/health", tags=["meta"])
def health(session: SessionDep) -> dict[str, Any]:
    """Liveness and queue depth; the only endpoint without a key."""
    return {"status": "ok", "queue": queue_counts(session)}


@router.get("/sites", tags=["registry"])
def list_sites(
    session: SessionDep,
    _: Viewer,
    country: str | None = None,
    operator: str | None = None,
    min_level: int = Query(1, ge=1, le=5),
    limit: int = Limit,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Sites, most threatened first; filter by host country or operator (names or ISO codes)."""
    query = select(SiteRow).where(SiteRow.level >= min_level)
    if country:
        query = query.where(SiteRow.country_code == (country_code(country) or country))
    if operator:
        query = query.where(SiteRow.operator_code == (country_code(operator) or operator))
    query = query.order_by(SiteRow.level.desc(), SiteRow.score.desc(), SiteRow.key)
    return [site_dict(r) for r in session.scalars(query.limit(limit).offset(offset))]


@router.post("/sites", tags=["registry"], status_code=201)
def put_sites(session: SessionDep, _: Admin, sites: list[SiteIn]) -> dict[str, int]:
    """Add or update sites by key (idempotent)."""
    domain = [
        Site(
            key=s.key,
            name=s.name,
            type=s.type,
            operator=s.operator,
            operator_code=country_code(s.operator),
            country=s.country,
            country_code=country_code(s.country),
            city=s.city,
            lat=s.lat,
            lon=s.lon,
            qid=s.qid,
        )
        for s in sites
    ]
    added, updated, unchanged = upsert_sites(session, sites=domain)
    return {"added": added, "updated": updated, "unchanged": unchanged}


@router.get("/sites/{key}", tags=["registry"])
def read_site(session: SessionDep, _: Viewer, key: str) -> dict[str, Any]:
    """A site with its level, the incidents behind it, its staff and the level history."""
    row = get_site(session, key=key)
    history = session.scalars(
        select(LevelHistoryRow)
        .where(LevelHistoryRow.site_id == row.id)
        .order_by(LevelHistoryRow.as_of)
    ).all()
    staff = session.scalars(select(StaffRow).where(StaffRow.site_id == row.id)).all()
    return {
        **site_dict(row),
        "history": [
            {"level": h.level, "score": h.score, "as_of": as_utc(h.as_of).isoformat()}
            for h in history
        ],
        "staff": [
            {"name": s.name, "role": s.role, "security_officer": s.is_security_officer}
            for s in staff
        ],
    }


@router.get("/levels/{scope}", tags=["levels"])
def place_levels(
    session: SessionDep,
    _: Viewer,
    scope: str,
    country: str | None = None,
    as_of: Annotated[
        datetime | None, Query(description="Assess as of this time (default: now).")
    ] = None,
) -> list[dict[str, Any]]:
    """Levels per country, or per city (``?country=`` narrows), from the incidents there."""
    if scope not in ("country", "city"):
        raise NotFoundError(f"level scope {scope!r}: use 'country' or 'city'")
    as_of = as_utc(as_of) if as_of else utcnow()
    model = threat_model()
    since = (as_of - timedelta(days=model.recency.horizon_days)).date()
    query = select(IncidentRow).where(IncidentRow.date >= since)
    code = country_code(country) if country else None
    if code:
        query = query.where(IncidentRow.country == code)
    incidents = [summary_of_row(r) for r in session.scalars(query)]
    places = _places(session, scope, code)
    out = []
    if scope == "country":  # every incident in the country counts in full
        model = model.model_copy(
            update={"proximity": model.proximity.model_copy(update={"same_country_floor": 1.0})}
        )
    for name, cc, lat, lon in places:
        target = Target(lat if scope == "city" else None, lon if scope == "city" else None, cc)
        result = assess(target, [i for i in incidents if i.country == cc], as_of, model)
        out.append(
            {
                "name": name,
                "country": cc,
                "level": result.level,
                "score": result.score,
                "incidents": result.incident_ids,
            }
        )
    return sorted(out, key=lambda p: (-p["score"], p["name"]))


def _places(
    session: SessionDep, scope: str, code: str | None
) -> list[tuple[str, str, float | None, float | None]]:
    if scope == "country":
        query = select(
            SiteRow.country, SiteRow.country_code, func.avg(SiteRow.lat), func.avg(SiteRow.lon)
        )
        query = query.group_by(SiteRow.country, SiteRow.country_code)
    else:
        query = select(
            SiteRow.city, SiteRow.country_code, func.avg(SiteRow.lat), func.avg(SiteRow.lon)
        )
        query = query.group_by(SiteRow.city, SiteRow.country_code)
    if code:
        query = query.where(SiteRow.country_code == code)
    return [(str(n), str(c), lat, lon) for n, c, lat, lon in session.execute(query) if c]


@router.post("/reports", tags=["reports"], status_code=202)
def push_reports(
    session: SessionDep, settings: SettingsDep, caller: Analyst, reports: list[ReportIn]
) -> dict[str, Any]:
    """Push reports for processing; each answer says new, duplicate or near_duplicate."""
    results = []
    for number, report in enumerate(reports):
        try:
            with session.begin_nested():
                stored = add_report(
                    session,
                    report=_report_input(report, caller.name),
                    max_bytes=settings.max_report_bytes,
                )
            results.append(
                {"index": number, "report_id": stored.report_id, "status": stored.status}
            )
        except InputError as exc:
            results.append({"index": number, "error": str(exc)})
    return {"results": results}


def _report_input(report: ReportIn, caller: str) -> ReportInput:
    published = as_utc(report.published) if report.published else utcnow()
    return ReportInput(
        source=report.source or caller,
        text=report.text,
        url=report.url,
        title=report.title,
        published=published,
        language=report.language,
        external_id=report.id,
    )


@router.get("/reports/{report_id}", tags=["reports"])
def read_report(session: SessionDep, _: Viewer, report_id: int) -> dict[str, Any]:
    row = session.get(ReportRow, report_id)
    if row is None:
        raise NotFoundError(f"report {report_id} does not exist")
    return {
        "id": row.id,
        "source": row.source,
        "url": row.url,
        "title": row.title,
        "published": as_utc(row.published).isoformat() if row.published else None,
        "language": row.language,
        "text": row.text,
        "duplicate_of": row.duplicate_of,
    }


@router.get("/incidents", tags=["incidents"])
def list_incidents(
    session: SessionDep,
    _: Viewer,
    country: str | None = None,
    type: str | None = None,
    days: int = Query(30, ge=1, le=3650),
    limit: int = Limit,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Incidents of the last ``days`` days, newest first."""
    if type is not None and type not in INCIDENT_TYPES:
        raise InputError(
            f"incident type {type!r} is unknown; use one of {', '.join(INCIDENT_TYPES)}"
        )
    query = select(IncidentRow).where(IncidentRow.date >= (utcnow() - timedelta(days=days)).date())
    if country:
        query = query.where(IncidentRow.country == (country_code(country) or country))
    if type:
        query = query.where(IncidentRow.type == type)
    query = (
        query.order_by(IncidentRow.date.desc(), IncidentRow.id.desc()).limit(limit).offset(offset)
    )
    return [incident_dict(r) for r in session.scalars(query)]


@router.get("/incidents/{incident_id}", tags=["incidents"])
def read_incident(session: SessionDep, _: Viewer, incident_id: int) -> dict[str, Any]:
    """An incident with every report behind it and the extracted fields with their spans."""
    row = get_incident(session, incident_id=incident_id)
    reports = [
        {
            "id": r.id,
            "title": r.title,
            "url": r.url,
            "language": r.language,
            "source": r.source,
            "published": as_utc(r.published).isoformat() if r.published else None,
            "text": r.text,
            "extraction": e.data,
        }
        for r, e in incident_reports(session, incident_id=incident_id)
    ]
    threatened = session.scalars(select(SiteRow).where(SiteRow.level >= 2))
    sites = [s for s in threatened if any(r["incident_id"] == incident_id for r in s.reasons)]
    return {**incident_dict(row), "reports": reports, "sites": [site_dict(s) for s in sites]}


@router.post("/staff", tags=["registry"], status_code=201)
def add_staff(session: SessionDep, _: Admin, staff: StaffIn) -> dict[str, Any]:
    site_id = get_site(session, key=staff.site_key).id if staff.site_key else None
    row = StaffRow(
        site_id=site_id,
        name=staff.name,
        role=staff.role,
        email=staff.email,
        is_security_officer=staff.is_security_officer,
    )
    session.add(row)
    session.flush()
    return {"id": row.id}


@router.post("/persons", tags=["appearances"], status_code=201)
def add_person(session: SessionDep, _: Analyst, person: PersonIn) -> dict[str, Any]:
    site_id = get_site(session, key=person.site_key).id if person.site_key else None
    row = PersonRow(
        name=person.name,
        role=person.role,
        site_id=site_id,
        nationality=country_code(person.nationality) if person.nationality else None,
    )
    session.add(row)
    session.flush()
    return {"id": row.id}


@router.post("/appearances", tags=["appearances"], status_code=201)
def add_appearance(session: SessionDep, _: Analyst, item: AppearanceIn) -> dict[str, Any]:
    """Plan an appearance; it is assessed at once and again whenever incidents arrive."""
    if session.get(PersonRow, item.person_id) is None:
        raise NotFoundError(f"protected person {item.person_id} does not exist")
    if item.ends_at <= item.starts_at:
        raise InputError(f"appearance at {item.venue!r} ends before it starts")
    row = store_appearance(
        session,
        person_id=item.person_id,
        venue=item.venue,
        lat=item.lat,
        lon=item.lon,
        country_code=country_code(item.country) if item.country else None,
        starts_at=as_utc(item.starts_at),
        ends_at=as_utc(item.ends_at),
        as_of=utcnow(),
    )
    return _appearance_dict(row)


@router.get("/appearances/{appearance_id}", tags=["appearances"])
def read_appearance(session: SessionDep, _: Viewer, appearance_id: int) -> dict[str, Any]:
    row = session.get(AppearanceRow, appearance_id)
    if row is None:
        raise NotFoundError(f"appearance {appearance_id} does not exist")
    return _appearance_dict(row)


def _appearance_dict(row: AppearanceRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "person_id": row.person_id,
        "venue": row.venue,
        "lat": row.lat,
        "lon": row.lon,
        "country": row.country_code,
        "starts_at": as_utc(row.starts_at).isoformat(),
        "ends_at": as_utc(row.ends_at).isoformat(),
        "level": row.level,
        "reasons": row.reasons,
        "checklist": row.checklist,
    }


@router.get("/alerts", tags=["alerts"])
def list_alerts(
    session: SessionDep, _: Viewer, state: str | None = None, limit: int = Limit, offset: int = 0
) -> list[dict[str, Any]]:
    query = select(AlertRow).order_by(AlertRow.id.desc())
    if state:
        query = query.where(AlertRow.state == state)
    return [alert_dict(a) for a in session.scalars(query.limit(limit).offset(offset))]


@router.post("/alerts/{alert_id}/state", tags=["alerts"])
def change_alert(
    session: SessionDep, caller: Analyst, alert_id: int, body: AlertStateIn
) -> dict[str, Any]:
    """Acknowledge, resolve, or mark as duplicate / false positive."""
    return alert_dict(
        set_alert_state(
            session, alert_id=alert_id, state=body.state, user=caller.name, note=body.note
        )
    )


@router.post("/channels", tags=["alerts"], status_code=201)
def add_channel(session: SessionDep, _: Admin, channel: ChannelIn) -> dict[str, Any]:
    if channel.kind not in CHANNEL_KINDS:
        raise InputError(
            f"channel kind {channel.kind!r} is unknown; use one of {', '.join(CHANNEL_KINDS)}"
        )
    row = ChannelRow(name=channel.name, kind=channel.kind, target=channel.target, enabled=True)
    session.add(row)
    session.flush()
    return {"id": row.id}


@router.post("/rules", tags=["alerts"], status_code=201)
def add_rule(session: SessionDep, _: Admin, rule: RuleIn) -> dict[str, Any]:
    unknown = sorted(set(rule.incident_types) - set(INCIDENT_TYPES))
    if unknown:
        raise InputError(f"rule {rule.name!r}: unknown incident types {unknown}")
    row = RuleRow(
        name=rule.name,
        site_id=get_site(session, key=rule.site_key).id if rule.site_key else None,
        lat=rule.lat,
        lon=rule.lon,
        radius_km=rule.radius_km,
        country_code=country_code(rule.country) if rule.country else None,
        operator_code=country_code(rule.operator) if rule.operator else None,
        min_level=rule.min_level,
        incident_types=rule.incident_types,
        channel_ids=_channel_ids(session, rule.channels),
        escalation_channel_ids=_channel_ids(session, rule.escalation_channels),
        notify_officers=rule.notify_officers,
        enabled=True,
    )
    session.add(row)
    session.flush()
    return {"id": row.id}


def _channel_ids(session: SessionDep, names: list[str]) -> list[int]:
    ids = []
    for name in names:
        found = session.scalar(select(ChannelRow.id).where(ChannelRow.name == name))
        if found is None:
            raise NotFoundError(f"channel {name!r} does not exist")
        ids.append(found)
    return ids


@router.post("/keys", tags=["access"], status_code=201)
def add_key(session: SessionDep, _: Admin, body: KeyIn) -> dict[str, str]:
    """Create an API key; the key is shown only in this answer."""
    return {
        "name": body.name,
        "role": body.role,
        "key": create_key(session, name=body.name, role=body.role),
    }
